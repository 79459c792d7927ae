//! Server-side apply: per-manager ownership of leaf fields (objects are recursed, lists and
//! scalars are atomic). Conflicts with another manager's differing value are 409 unless forced;
//! fields a manager applied before and now omits are removed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::error::ApiError;

pub type Path = Vec<String>;

/// Manager name → the leaf paths it owns on one object.
pub type Managers = BTreeMap<String, BTreeSet<Path>>;

/// Paths no manager owns: identity and server-owned metadata.
fn ignored(path: &[String]) -> bool {
    match path {
        [p] => p == "apiVersion" || p == "kind",
        [m, f, ..] if m == "metadata" => {
            matches!(
                f.as_str(),
                "name"
                    | "namespace"
                    | "resourceVersion"
                    | "uid"
                    | "creationTimestamp"
                    | "generation"
                    | "managedFields"
            )
        }
        _ => false,
    }
}

fn leaves(v: &Value, prefix: &mut Path, out: &mut Vec<(Path, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(k.clone());
                leaves(child, prefix, out);
                prefix.pop();
            }
        }
        _ if !prefix.is_empty() && !ignored(prefix) => out.push((prefix.clone(), v.clone())),
        _ => {}
    }
}

fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, p| cur.get(p))
}

fn set_path(v: &mut Value, path: &[String], value: Value) {
    let mut cur = v;
    for p in &path[..path.len() - 1] {
        if !cur.get(p).is_some_and(Value::is_object) {
            cur[p] = Value::Object(Map::new());
        }
        cur = cur.get_mut(p).expect("just ensured");
    }
    cur[&path[path.len() - 1]] = value;
}

fn remove_path(v: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for p in parents {
        match cur.get_mut(p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
}

/// Applies `applied` for `manager` over `live` (None: create), updating `managers`.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    managers: &mut Managers,
    manager: &str,
    force: bool,
) -> Result<Value, ApiError> {
    let mut new_leaves = Vec::new();
    leaves(applied, &mut Vec::new(), &mut new_leaves);
    let mut result = live.cloned().unwrap_or_else(|| json!({}));

    let mut conflicts = Vec::new();
    for (path, value) in &new_leaves {
        for (other, owned) in managers.iter() {
            if other != manager && owned.contains(path) && get_path(&result, path) != Some(value) {
                conflicts.push((other.clone(), path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        let detail: Vec<String> = conflicts
            .iter()
            .map(|(m, p)| format!("conflict with \"{m}\": .{}", p.join(".")))
            .collect();
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Apply failed with {} conflict(s): {}",
                conflicts.len(),
                detail.join(", ")
            ),
        ));
    }
    for (other, path) in &conflicts {
        if let Some(owned) = managers.get_mut(other) {
            owned.remove(path);
        }
    }

    let now_owned: BTreeSet<Path> = new_leaves.iter().map(|(p, _)| p.clone()).collect();
    let before = managers.get(manager).cloned().unwrap_or_default();
    for dropped in before.difference(&now_owned) {
        let owned_by_other = managers
            .iter()
            .any(|(m, owned)| m != manager && owned.contains(dropped));
        if !owned_by_other {
            remove_path(&mut result, dropped);
        }
    }
    for (path, value) in new_leaves {
        set_path(&mut result, &path, value);
    }
    managers.retain(|_, owned| !owned.is_empty());
    managers.insert(manager.to_string(), now_owned);
    Ok(result)
}

/// A non-apply write by `manager`: it takes ownership of every leaf it set or changed; fields
/// that no longer exist lose their owners.
pub fn record_update(old: Option<&Value>, new: &Value, managers: &mut Managers, manager: &str) {
    let mut new_leaves = Vec::new();
    leaves(new, &mut Vec::new(), &mut new_leaves);
    let changed: BTreeSet<Path> = new_leaves
        .into_iter()
        .filter(|(p, v)| old.and_then(|o| get_path(o, p)) != Some(v))
        .map(|(p, _)| p)
        .collect();
    for (m, owned) in managers.iter_mut() {
        owned.retain(|p| get_path(new, p).is_some() && (m == manager || !changed.contains(p)));
    }
    if !changed.is_empty() {
        managers
            .entry(manager.to_string())
            .or_default()
            .extend(changed);
    }
    managers.retain(|_, owned| !owned.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_force_and_removal() {
        let mut managers = Managers::new();
        let a = apply(
            None,
            &json!({"spec": {"x": 1, "y": 2}}),
            &mut managers,
            "a",
            false,
        )
        .expect("create");
        assert_eq!(a, json!({"spec": {"x": 1, "y": 2}}));
        // Same value from another manager is shared ownership, not a conflict.
        apply(
            Some(&a),
            &json!({"spec": {"x": 1}}),
            &mut managers,
            "b",
            false,
        )
        .expect("same value");
        let err = apply(
            Some(&a),
            &json!({"spec": {"y": 3}}),
            &mut managers,
            "b",
            false,
        )
        .expect_err("conflict");
        assert_eq!(err.code, 409);
        assert!(err.message.contains("\"a\""), "{}", err.message);
        let forced = apply(
            Some(&a),
            &json!({"spec": {"y": 3}}),
            &mut managers,
            "b",
            true,
        )
        .expect("forced");
        assert_eq!(forced, json!({"spec": {"x": 1, "y": 3}}));
        // a re-applies with only z: y went to b by force, x was a's alone, so x goes.
        let again = apply(
            Some(&forced),
            &json!({"spec": {"z": 0}}),
            &mut managers,
            "a",
            false,
        )
        .expect("reapply");
        assert_eq!(again, json!({"spec": {"y": 3, "z": 0}}));
    }

    #[test]
    fn updates_own_what_they_change() {
        let mut managers = Managers::new();
        let live = apply(
            None,
            &json!({"spec": {"x": 1, "y": 2}}),
            &mut managers,
            "a",
            false,
        )
        .expect("create");
        let edited = json!({"spec": {"x": 5, "y": 2}});
        record_update(Some(&live), &edited, &mut managers, "kubectl-edit");
        let err = apply(
            Some(&edited),
            &json!({"spec": {"x": 1, "y": 2}}),
            &mut managers,
            "a",
            false,
        )
        .expect_err("x is kubectl-edit's");
        assert!(err.message.contains("kubectl-edit"), "{}", err.message);
        // y was unchanged, so it is still a's alone and a can change it freely.
        let ok = apply(
            Some(&edited),
            &json!({"spec": {"x": 5, "y": 3}}),
            &mut managers,
            "a",
            false,
        )
        .expect("no conflict");
        assert_eq!(ok, json!({"spec": {"x": 5, "y": 3}}));
    }
}
