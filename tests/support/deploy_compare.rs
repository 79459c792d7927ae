//! Comparing the kustomize and Helm renderings object by object.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::deploy_tools::{by_key, documents};

/// `0` and `0.0` are the same YAML number; kustomize and Helm print CRDs' numbers differently.
pub fn normalise(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        other => other,
    }
}

/// The path of the first difference between two values.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}/{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

pub fn assert_same_objects(kustomized: &str, helm: &str) -> Vec<Value> {
    let mut k = by_key(documents(kustomized).into_iter().map(normalise).collect());
    let h = by_key(documents(helm).into_iter().map(normalise).collect());
    let namespace = k
        .remove(&("Namespace".into(), String::new(), "sluice-system".into()))
        .expect("the kustomize base creates the namespace");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let only_k: Vec<_> = k.keys().filter(|key| !h.contains_key(*key)).collect();
    let only_h: Vec<_> = h.keys().filter(|key| !k.contains_key(*key)).collect();
    assert!(
        only_k.is_empty() && only_h.is_empty(),
        "only in kustomize: {only_k:?}\nonly in helm: {only_h:?}"
    );
    for (key, obj) in &k {
        let difference = first_difference(obj, &h[key], "");
        assert!(
            difference.is_none(),
            "{key:?} differs (kustomize vs helm) at {difference:?}"
        );
    }
    k.into_values().collect()
}

#[test]
fn the_comparison_equates_only_equal_numbers_and_names_the_difference() {
    assert_eq!(normalise(json!({"a": [0.0, 1.5]})), json!({"a": [0, 1.5]}));
    let a = json!({"spec": {"args": ["operator", "--leader-elect"], "replicas": 2}});
    let b = json!({"spec": {"args": ["operator", "--leader-elect"], "replicas": 2.0}});
    assert_eq!(
        first_difference(&normalise(a.clone()), &normalise(b), ""),
        None
    );
    let c = json!({"spec": {"args": ["operator"], "replicas": 2, "paused": true}});
    let difference = first_difference(&a, &c, "").expect("a difference");
    assert!(difference.starts_with("/spec/args:"), "{difference}");
    let d =
        json!({"spec": {"args": ["operator", "--leader-elect"], "replicas": 2, "paused": true}});
    assert_eq!(
        first_difference(&a, &d, "").as_deref(),
        Some("/spec/paused: null vs true")
    );
}
