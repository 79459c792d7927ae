//! Writing a subject's `PolicyReport`: created owned by the subject (garbage-collected with
//! it), replaced with the read resourceVersion only when its content or ownership changed,
//! never after the write gate closed.

use std::collections::BTreeMap;

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::ApiResource;

use crate::operator::context::Shared;
use crate::operator::report_writer::Subject;

use super::build::{Body, PolicyResult, settle};
use super::{API_VERSION, GROUP, KIND, PLURAL, VERSION};

/// Conflicting writes retried before giving up (the reconcile is then retried).
const ATTEMPTS: usize = 4;

/// What the write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Replaced,
    Unchanged,
    /// The write gate is closed (leadership lost): nothing was written.
    NotLeading,
    /// The kind is not served (the CRD was removed).
    KindMissing,
}

pub fn resource() -> ApiResource {
    ApiResource {
        group: GROUP.to_owned(),
        version: VERSION.to_owned(),
        api_version: API_VERSION.to_owned(),
        kind: KIND.to_owned(),
        plural: PLURAL.to_owned(),
    }
}

/// Creates or updates PolicyReport `name` for `subject` with `body` (its result time stamps
/// settled against the stored report first).
pub async fn write(
    shared: &Shared,
    subject: &Subject,
    name: &str,
    mut body: Body,
) -> Result<Outcome, kube::Error> {
    let resource = resource();
    let api: Api<DynamicObject> =
        Api::namespaced_with(shared.client.clone(), &subject.namespace, &resource);
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let Some(existing) = api.get_opt(name).await? else {
            if !shared.writes.is_open() {
                return Ok(Outcome::NotLeading);
            }
            let mut object = DynamicObject::new(name, &resource).within(&subject.namespace);
            object.metadata.labels = Some(labels(subject, BTreeMap::new()));
            object.metadata.owner_references = Some(vec![subject.owner_reference()]);
            object.data = serde_json::to_value(&body).expect("a PolicyReport body serializes");
            match api.create(&PostParams::default(), &object).await {
                Ok(_) => return Ok(Outcome::Created),
                Err(kube::Error::Api(status)) if status.code == 409 => continue,
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    return Ok(Outcome::KindMissing);
                }
                Err(e) => return Err(e),
            }
        };
        let current: Vec<PolicyResult> = existing
            .data
            .get("results")
            .cloned()
            .and_then(|r| serde_json::from_value(r).ok())
            .unwrap_or_default();
        settle(&mut body, &current);
        let data = serde_json::to_value(&body).expect("a PolicyReport body serializes");
        let wanted_labels = labels(
            subject,
            existing.metadata.labels.clone().unwrap_or_default(),
        );
        let owners = vec![subject.owner_reference()];
        if existing.data == data
            && existing.metadata.labels.as_ref() == Some(&wanted_labels)
            && existing.metadata.owner_references.as_ref() == Some(&owners)
        {
            return Ok(Outcome::Unchanged);
        }
        if !shared.writes.is_open() {
            return Ok(Outcome::NotLeading);
        }
        let mut updated = existing;
        updated.data = data;
        updated.metadata.labels = Some(wanted_labels);
        updated.metadata.owner_references = Some(owners);
        // `replace` sends the resourceVersion read above: a concurrent change is a 409.
        match api.replace(name, &PostParams::default(), &updated).await {
            Ok(_) => return Ok(Outcome::Replaced),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                tracing::debug!(policy_report = %name, "write conflicted; re-reading");
                last_error = Some(kube::Error::Api(status));
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {
                // Deleted since it was read: create it on the next attempt.
                last_error = Some(kube::Error::Api(status));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        kube::Error::Service(format!("PolicyReport {name}: too many conflicting writes").into())
    }))
}

/// Ours over whatever labels the object carries.
fn labels(subject: &Subject, mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels.insert(
        "app.kubernetes.io/managed-by".to_owned(),
        "sluice".to_owned(),
    );
    labels.insert(
        "sluice.dev/subject-kind".to_owned(),
        subject.kind.label().to_owned(),
    );
    labels
}
