//! Label and field selectors as the apiserver parses them from LIST/WATCH queries.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector` + `fieldSelector` (only `metadata.name` / `metadata.namespace`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    labels: Vec<LabelReq>,
    fields: Vec<(String, bool, String)>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl Selector {
    pub fn parse(label: Option<&str>, field: Option<&str>) -> Result<Self, SelectorError> {
        let mut s = Selector::default();
        if let Some(label) = label {
            for term in split_terms(label) {
                s.labels.push(parse_label_term(term.trim())?);
            }
        }
        if let Some(field) = field {
            for term in field.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let (key, negate, value) = if let Some((k, v)) = term.split_once("!=") {
                    (k, true, v)
                } else if let Some((k, v)) = term.split_once("==") {
                    (k, false, v)
                } else if let Some((k, v)) = term.split_once('=') {
                    (k, false, v)
                } else {
                    return Err(SelectorError(format!(
                        "invalid field selector term {term:?}"
                    )));
                };
                let key = key.trim();
                if key != "metadata.name" && key != "metadata.namespace" {
                    return Err(SelectorError(format!("field label not supported: {key}")));
                }
                s.fields
                    .push((key.to_string(), negate, value.trim().to_string()));
            }
        }
        Ok(s)
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let labels_ok = self.labels.iter().all(|req| match req {
            LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => label(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| v != l)),
            LabelReq::Exists(k) => label(k).is_some(),
            LabelReq::NotExists(k) => label(k).is_none(),
        });
        let fields_ok = self.fields.iter().all(|(key, negate, value)| {
            let actual = match key.as_str() {
                "metadata.name" => obj.pointer("/metadata/name"),
                _ => obj.pointer("/metadata/namespace"),
            }
            .and_then(Value::as_str)
            .unwrap_or("");
            (actual == value) != *negate
        });
        labels_ok && fields_ok
    }
}

/// Splits on commas that are not inside `( ... )` value sets.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|t| !t.trim().is_empty()).collect()
}

fn parse_label_term(term: &str) -> Result<LabelReq, SelectorError> {
    let bad = || SelectorError(format!("invalid label selector term {term:?}"));
    if let Some(k) = term.strip_prefix('!') {
        return Ok(LabelReq::NotExists(k.trim().to_string()));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(LabelReq::NotEq(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Ok(LabelReq::Eq(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once('=') {
        return Ok(LabelReq::Eq(k.trim().into(), v.trim().into()));
    }
    if let Some(open) = term.find('(') {
        let head = term[..open].trim();
        let set = term[open + 1..].strip_suffix(')').ok_or_else(bad)?;
        let values: Vec<String> = set
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let (key, op) = head.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
        return match op {
            "in" => Ok(LabelReq::In(key.trim().into(), values)),
            "notin" => Ok(LabelReq::NotIn(key.trim().into(), values)),
            _ => Err(bad()),
        };
    }
    if term.contains(char::is_whitespace) || term.is_empty() {
        return Err(bad());
    }
    Ok(LabelReq::Exists(term.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "x", "tier": "web"}));
        let m = |l: &str| {
            Selector::parse(Some(l), None)
                .expect("valid selector")
                .matches(&o)
        };
        assert!(m("app=x"));
        assert!(m("app==x"));
        assert!(!m("app=y"));
        assert!(m("app!=y"));
        assert!(!m("app!=x"));
        assert!(m("tier in (web, db)"));
        assert!(!m("tier in (db)"));
        assert!(m("tier notin (db)"));
        assert!(!m("tier notin (web,db)"));
        assert!(m("missing notin (web)"));
        assert!(m("app"));
        assert!(!m("missing"));
        assert!(m("!missing"));
        assert!(!m("!app"));
        assert!(m("app=x,tier in (web,db),!missing"));
        assert!(!m("app=x,tier in (db,api)"));
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        let m = |f: &str| {
            Selector::parse(None, Some(f))
                .expect("valid selector")
                .matches(&o)
        };
        assert!(m("metadata.name=a"));
        assert!(!m("metadata.name=b"));
        assert!(m("metadata.namespace==ns,metadata.name!=b"));
        assert!(Selector::parse(None, Some("spec.x=1")).is_err());
        assert!(Selector::parse(Some("a in b"), None).is_err());
    }
}
