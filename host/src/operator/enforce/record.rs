//! The record of what sluice changed on an object, kept on that object (so it survives the
//! report, a restart and a leader change) as JSON in one annotation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::change::FieldChange;

/// The annotation holding the record. The value `disabled` on a subject opts it out of
/// enforcement.
pub const ANNOTATION: &str = "sluice.dev/enforcement";

/// Changes sluice made to one object, by action and policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnforcementRecord {
    /// Format version, so a later sluice can read an older record.
    pub version: u32,
    pub entries: Vec<RecordEntry>,
}

/// One action's changes on the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordEntry {
    /// `annotate`, `suspendSync`, `labelWorkloads`, `alert`.
    pub action: String,
    /// The policies that want the action (`<namespace>/<name>`, `/<name>` for a cluster
    /// policy). The change stays while any of them does; for `alert`, exactly one.
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// On a subject: the other objects this action changed (`Kind/namespace/name`), so that
    /// reversal finds them even when the subject no longer lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// A person changed a field sluice had set while the trigger still held: sluice leaves
    /// the object alone until the trigger clears, then forgets the entry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yielded: bool,
    /// For `alert`: the state whose alert was delivered; another state (or the same one after
    /// a resolution removed the entry) is a new transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<String>,
    /// When it was applied (RFC 3339).
    pub at: String,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the {ANNOTATION} annotation is not a sluice enforcement record: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("the {ANNOTATION} annotation has record version {0}, newer than this sluice reads")]
    TooNew(u32),
}

/// What the annotation on an object says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Annotation {
    /// No annotation.
    Absent,
    /// `disabled`: the object is opted out; sluice never changes it.
    OptedOut,
    Record(EnforcementRecord),
}

impl EnforcementRecord {
    pub const VERSION: u32 = 1;

    /// A record with no entries yet.
    pub fn empty() -> EnforcementRecord {
        EnforcementRecord {
            version: Self::VERSION,
            entries: Vec::new(),
        }
    }

    /// Reads the annotation of `object`.
    pub fn read(object: &Value) -> Result<Annotation, RecordError> {
        let Some(text) = object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ANNOTATION))
            .and_then(Value::as_str)
        else {
            return Ok(Annotation::Absent);
        };
        if text.trim() == "disabled" {
            return Ok(Annotation::OptedOut);
        }
        let record: EnforcementRecord = serde_json::from_str(text)?;
        if record.version > Self::VERSION {
            return Err(RecordError::TooNew(record.version));
        }
        Ok(Annotation::Record(record))
    }

    /// The annotation value, entries in a fixed order (by action) whatever order they were
    /// updated in, so that an unchanged record reads the same.
    pub fn to_annotation(&self) -> String {
        let mut record = self.clone();
        record.entries.sort_by_key(|e| {
            ["annotate", "suspendSync", "labelWorkloads", "alert"]
                .iter()
                .position(|a| *a == e.action)
                .unwrap_or(usize::MAX)
        });
        serde_json::to_string(&record).expect("a record always serializes")
    }

    /// The entry for `action` (and, for alerts, `policy`), if recorded.
    pub fn entry(&self, action: &str, policy: Option<&str>) -> Option<&RecordEntry> {
        self.entries.iter().find(|e| e.matches(action, policy))
    }

    /// Removes and returns the entry for `action` (and `policy`).
    pub fn take(&mut self, action: &str, policy: Option<&str>) -> Option<RecordEntry> {
        let index = self
            .entries
            .iter()
            .position(|e| e.matches(action, policy))?;
        Some(self.entries.remove(index))
    }
}

impl RecordEntry {
    fn matches(&self, action: &str, policy: Option<&str>) -> bool {
        self.action == action && policy.is_none_or(|p| self.policies.iter().any(|q| q == p))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn records_round_trip_through_the_annotation() {
        let record = EnforcementRecord {
            version: 1,
            entries: vec![RecordEntry {
                action: "suspendSync".into(),
                policies: vec!["argocd/strict".into()],
                targets: Vec::new(),
                yielded: false,
                delivered: None,
                changes: vec![FieldChange {
                    path: "/spec/syncPolicy/automated".into(),
                    prior: Some(json!({"prune": true})),
                    applied: None,
                }],
                at: "2026-11-24T00:00:00Z".into(),
            }],
        };
        let object = json!({"metadata": {"annotations": {ANNOTATION: record.to_annotation()}}});
        assert_eq!(
            EnforcementRecord::read(&object).expect("readable"),
            Annotation::Record(record.clone())
        );
        assert!(record.entry("suspendSync", None).is_some());
        assert!(record.entry("suspendSync", Some("argocd/strict")).is_some());
        assert!(record.entry("suspendSync", Some("other/policy")).is_none());
        assert!(record.entry("annotate", None).is_none());
    }

    #[test]
    fn opt_out_absent_and_broken_annotations() {
        let opted = json!({"metadata": {"annotations": {ANNOTATION: "disabled"}}});
        assert_eq!(
            EnforcementRecord::read(&opted).expect("ok"),
            Annotation::OptedOut
        );
        assert_eq!(
            EnforcementRecord::read(&json!({"metadata": {}})).expect("ok"),
            Annotation::Absent
        );
        let broken = json!({"metadata": {"annotations": {ANNOTATION: "{not json"}}});
        assert!(matches!(
            EnforcementRecord::read(&broken),
            Err(RecordError::Invalid(_))
        ));
        let newer =
            json!({"metadata": {"annotations": {ANNOTATION: r#"{"version": 9, "entries": []}"#}}});
        assert!(matches!(
            EnforcementRecord::read(&newer),
            Err(RecordError::TooNew(9))
        ));
    }
}
