//! `suspendSync`: which fields pausing a subject's delivery changes. Argo CD: automated sync
//! off (`automated.enabled: false` where the installed CRD has the field — Argo CD 3.1+ —
//! else `automated` removed, its block recorded); an Application without automated sync is
//! left alone, so reversal can never give it automated sync it did not have. Flux:
//! `spec.suspend: true` on the appliers and the source.

use serde_json::{Value, json};

use super::change::FieldChange;

const AUTOMATED: &str = "/spec/syncPolicy/automated";

/// Does the installed Application CRD (as JSON) know `spec.syncPolicy.automated.enabled`?
/// Older API servers silently prune unknown fields, so writing it there would do nothing.
pub fn argo_supports_enabled(crd: &Value) -> bool {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v["name"] == "v1alpha1")
        .any(|v| {
            v.pointer(
                "/schema/openAPIV3Schema/properties/spec/properties/syncPolicy/properties/automated/properties/enabled",
            )
            .is_some()
        })
}

/// The changes that stop an Application syncing automatically; empty when it does not.
pub fn argo_suspend(app: &Value, supports_enabled: bool) -> Vec<FieldChange> {
    let Some(automated) = app.pointer(AUTOMATED).filter(|a| a.is_object()) else {
        return Vec::new();
    };
    if automated.get("enabled") == Some(&json!(false)) {
        return Vec::new();
    }
    let change = if supports_enabled {
        FieldChange::set(app, &format!("{AUTOMATED}/enabled"), Some(json!(false)))
    } else {
        FieldChange::set(app, AUTOMATED, None)
    };
    change.into_iter().collect()
}

/// The change that suspends a Flux object (source or applier); empty when already suspended.
pub fn flux_suspend(object: &Value) -> Vec<FieldChange> {
    FieldChange::set(object, "/spec/suspend", Some(json!(true)))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::enforce::Restore;

    fn upstream_application_crd() -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/upstream-crds/argocd-application.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the upstream Argo CD CRD at {}: {e}", path.display()));
        serde_yaml::from_str(&text).expect("the CRD is YAML")
    }

    #[test]
    fn the_current_argo_crd_supports_enabled_and_an_old_one_does_not() {
        let crd = upstream_application_crd();
        assert!(argo_supports_enabled(&crd));
        let mut old = crd;
        let automated = old
            .pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/syncPolicy/properties/automated/properties")
            .and_then(Value::as_object_mut)
            .expect("automated properties");
        automated.remove("enabled");
        assert!(!argo_supports_enabled(&old));
    }

    #[test]
    fn argo_automated_sync_is_paused_and_restored_exactly() {
        let app = json!({"spec": {"syncPolicy": {"automated": {"prune": true, "selfHeal": true}}}});
        let with_enabled = argo_suspend(&app, true);
        assert_eq!(with_enabled.len(), 1);
        assert_eq!(with_enabled[0].path, "/spec/syncPolicy/automated/enabled");
        assert_eq!(with_enabled[0].prior, None);
        let removed = argo_suspend(&app, false);
        assert_eq!(
            removed[0].prior,
            Some(json!({"prune": true, "selfHeal": true}))
        );
        assert_eq!(removed[0].applied, None);
        let paused = json!({"spec": {"syncPolicy": {}}});
        assert_eq!(
            removed[0].restore(&paused),
            Restore::Patch(
                json!({"spec": {"syncPolicy": {"automated": {"prune": true, "selfHeal": true}}}})
            )
        );
    }

    #[test]
    fn an_application_without_automated_sync_is_never_touched() {
        for app in [
            json!({"spec": {"syncPolicy": {}}}),
            json!({"spec": {}}),
            json!({"spec": {"syncPolicy": {"automated": {"enabled": false}}}}),
        ] {
            assert!(argo_suspend(&app, true).is_empty(), "{app}");
            assert!(argo_suspend(&app, false).is_empty(), "{app}");
        }
    }

    #[test]
    fn flux_objects_are_suspended_once_with_their_prior_value() {
        let running = json!({"spec": {"interval": "1m"}});
        let changes = flux_suspend(&running);
        assert_eq!(changes[0].prior, None);
        assert_eq!(changes[0].apply_patch(), json!({"spec": {"suspend": true}}));
        let explicit = json!({"spec": {"suspend": false}});
        assert_eq!(flux_suspend(&explicit)[0].prior, Some(json!(false)));
        assert!(flux_suspend(&json!({"spec": {"suspend": true}})).is_empty());
    }
}
