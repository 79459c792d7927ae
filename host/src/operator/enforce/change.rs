//! One field sluice changed, and how to undo it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A change to one field of an object: where, what was there, what sluice put there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// JSON pointer of the field, e.g. `/spec/syncPolicy/automated`.
    pub path: String,
    /// The value before; `None`: the field was absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<Value>,
    /// The value sluice set; `None`: sluice removed the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<Value>,
}

/// What reversing a change comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    /// The field still holds what sluice applied: write this merge patch to restore it.
    Patch(Value),
    /// Someone changed the field since: leave it, drop the record, say so in an Event.
    ChangedSince { found: Option<Value> },
}

impl FieldChange {
    /// The change that sets `path` to `applied` on `object`, or `None` when it already holds
    /// that value (nothing to do, nothing to record).
    pub fn set(object: &Value, path: &str, applied: Option<Value>) -> Option<FieldChange> {
        let prior = object.pointer(path).cloned();
        (prior != applied).then(|| FieldChange {
            path: path.to_owned(),
            prior,
            applied,
        })
    }

    /// The merge patch that applies the change.
    pub fn apply_patch(&self) -> Value {
        merge_patch(&self.path, self.applied.clone())
    }

    /// How to undo the change on `object` as it is now.
    pub fn restore(&self, object: &Value) -> Restore {
        let found = object.pointer(&self.path).cloned();
        if found != self.applied {
            return Restore::ChangedSince { found };
        }
        Restore::Patch(merge_patch(&self.path, self.prior.clone()))
    }
}

/// A JSON merge patch (RFC 7386) setting `pointer` to `value` (`None` deletes it with `null`).
fn merge_patch(pointer: &str, value: Option<Value>) -> Value {
    let mut patch = value.unwrap_or(Value::Null);
    for segment in pointer.trim_start_matches('/').rsplit('/') {
        let key = segment.replace("~1", "/").replace("~0", "~");
        let mut map = Map::new();
        map.insert(key, patch);
        patch = Value::Object(map);
    }
    patch
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_change_records_the_prior_value_and_restores_it_only_if_untouched() {
        let app = json!({"spec": {"syncPolicy": {"automated": {"prune": true}}}});
        let change = FieldChange::set(&app, "/spec/syncPolicy/automated", None).expect("a change");
        assert_eq!(change.prior, Some(json!({"prune": true})));
        assert_eq!(
            change.apply_patch(),
            json!({"spec": {"syncPolicy": {"automated": null}}})
        );
        let suspended = json!({"spec": {"syncPolicy": {}}});
        assert_eq!(
            change.restore(&suspended),
            Restore::Patch(json!({"spec": {"syncPolicy": {"automated": {"prune": true}}}}))
        );
        let human = json!({"spec": {"syncPolicy": {"automated": {"selfHeal": true}}}});
        assert_eq!(
            change.restore(&human),
            Restore::ChangedSince {
                found: Some(json!({"selfHeal": true}))
            }
        );
    }

    #[test]
    fn no_change_when_the_field_already_holds_the_value() {
        let source = json!({"spec": {"suspend": true}});
        assert_eq!(
            FieldChange::set(&source, "/spec/suspend", Some(json!(true))),
            None
        );
        let absent = json!({"spec": {}});
        let change = FieldChange::set(&absent, "/spec/suspend", Some(json!(true))).expect("change");
        assert_eq!(change.prior, None);
        // Restoring an absent field removes it again.
        assert_eq!(
            change.restore(&json!({"spec": {"suspend": true}})),
            Restore::Patch(json!({"spec": {"suspend": null}}))
        );
    }

    #[test]
    fn pointer_escapes_become_keys() {
        let labels = json!({"metadata": {"labels": {}}});
        let change = FieldChange::set(
            &labels,
            "/metadata/labels/sluice.dev~1pipeline-risk",
            Some(json!("Critical")),
        )
        .expect("change");
        assert_eq!(
            change.apply_patch(),
            json!({"metadata": {"labels": {"sluice.dev/pipeline-risk": "Critical"}}})
        );
    }
}
