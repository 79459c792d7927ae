//! Writing a subject's `PipelineSecurityReport`: created once (owned by the subject, so it is
//! garbage-collected with it), its status replaced only when it changed, with the
//! resourceVersion read as a precondition (a conflict re-reads and retries).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams};

use crate::api::report::{
    PipelineSecurityReport, PipelineSecurityReportSpec, PipelineSecurityReportStatus, SubjectRef,
};
use crate::operator::context::Shared;
use crate::operator::kinds::WatchedKind;
use crate::operator::naming::{hashed_report_name, report_name};
use crate::operator::status::{now, settle};

/// Conflicting writes retried before giving up (the reconcile is then retried).
const ATTEMPTS: usize = 4;

/// The subject a report is about.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: WatchedKind,
    pub api_version: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub generation: Option<i64>,
}

/// What the write found and did.
#[derive(Debug, Clone)]
pub struct Written {
    pub name: String,
    /// The status before this evaluation (`None`: the report is new).
    pub previous: Option<PipelineSecurityReportStatus>,
    /// Whether the status was written.
    pub changed: bool,
}

pub async fn write_report(
    shared: &Shared,
    subject: &Subject,
    desired: &PipelineSecurityReportStatus,
) -> Result<Written, kube::Error> {
    let api: Api<PipelineSecurityReport> =
        Api::namespaced(shared.client.clone(), &subject.namespace);
    let mut name = report_name(subject.kind, &subject.namespace, &subject.name);
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let existing = match api.get_opt(&name).await? {
            Some(report) if !same_subject(&report.spec.subject, subject) => {
                if report.spec.subject.kind == subject.kind.kind()
                    && report.spec.subject.name == subject.name
                {
                    // The subject was deleted and re-created; garbage collection has not
                    // removed the old one's report yet.
                    if shared.writes.is_open() {
                        api.delete(&name, &DeleteParams::default()).await?;
                    }
                } else {
                    name = hashed_report_name(subject.kind, &subject.namespace, &subject.name);
                }
                continue;
            }
            Some(report) => report,
            None => {
                if !shared.writes.is_open() {
                    return Ok(not_written(name, None));
                }
                match api
                    .create(&PostParams::default(), &new_report(&name, subject))
                    .await
                {
                    Ok(created) => created,
                    Err(kube::Error::Api(status)) if status.code == 409 => continue,
                    Err(e) => return Err(e),
                }
            }
        };
        let previous = existing.status.clone();
        let mut status = desired.clone();
        if !settle(&mut status, previous.as_ref(), now()) {
            return Ok(not_written(name, previous));
        }
        if !shared.writes.is_open() {
            return Ok(not_written(name, previous));
        }
        let mut updated = existing;
        updated.status = Some(status);
        match api
            .replace_status(&name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {
                return Ok(Written {
                    name,
                    previous,
                    changed: true,
                });
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                tracing::debug!(report = %name, "status write conflicted; re-reading");
                last_error = Some(kube::Error::Api(status));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        kube::Error::Service(format!("report {name}: too many conflicting writes").into())
    }))
}

fn not_written(name: String, previous: Option<PipelineSecurityReportStatus>) -> Written {
    Written {
        name,
        previous,
        changed: false,
    }
}

fn same_subject(recorded: &SubjectRef, subject: &Subject) -> bool {
    recorded.kind == subject.kind.kind()
        && recorded.name == subject.name
        && recorded.uid.as_deref().is_none_or(|uid| uid == subject.uid)
}

fn new_report(name: &str, subject: &Subject) -> PipelineSecurityReport {
    let mut report = PipelineSecurityReport::new(
        name,
        PipelineSecurityReportSpec {
            subject: SubjectRef {
                api_version: subject.api_version.clone(),
                kind: subject.kind.kind().to_owned(),
                name: subject.name.clone(),
                uid: Some(subject.uid.clone()),
            },
        },
    );
    report.metadata = ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(subject.namespace.clone()),
        labels: Some(
            [
                ("app.kubernetes.io/managed-by", "sluice"),
                ("sluice.dev/subject-kind", subject.kind.label()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ),
        // Owned by the subject: deleting it deletes the report. Not a controller reference
        // and no blockOwnerDeletion, which would need rights on the subject's finalizers.
        owner_references: Some(vec![OwnerReference {
            api_version: subject.api_version.clone(),
            kind: subject.kind.kind().to_owned(),
            name: subject.name.clone(),
            uid: subject.uid.clone(),
            controller: None,
            block_owner_deletion: None,
        }]),
        ..ObjectMeta::default()
    };
    report
}
