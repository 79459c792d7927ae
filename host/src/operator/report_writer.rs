//! Writing a subject's `PipelineSecurityReport`: created once (owned by the subject, so it is
//! garbage-collected with it), its status replaced only when it changed, with the
//! resourceVersion read as a precondition (a conflict re-reads and retries).

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams};

use crate::api::report::{
    PipelineSecurityReport, PipelineSecurityReportSpec, PipelineSecurityReportStatus, SubjectRef,
};
use crate::operator::context::Shared;
use crate::operator::kinds::WatchedKind;
use crate::operator::naming::{hashed_report_name, report_name};
use crate::operator::status::settle;

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

impl Subject {
    /// Owned by the subject: deleting it deletes what sluice wrote about it (reports,
    /// PolicyReports). Not a controller reference and no blockOwnerDeletion, which would need
    /// rights on the subject's finalizers.
    pub fn owner_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.kind().to_owned(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: None,
            block_owner_deletion: None,
        }
    }

    /// The subject as an Event's `regarding` or a PolicyReport's `scope`.
    pub fn object_reference(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some(self.api_version.clone()),
            kind: Some(self.kind.kind().to_owned()),
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            uid: Some(self.uid.clone()),
            ..ObjectReference::default()
        }
    }
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

/// A subject's report as it is before this evaluation writes it.
#[derive(Debug, Clone)]
pub struct OpenReport {
    pub name: String,
    /// `None`: the report does not exist and could not be created (not the leader).
    report: Option<PipelineSecurityReport>,
}

impl OpenReport {
    /// The status before this evaluation.
    pub fn status(&self) -> Option<&PipelineSecurityReportStatus> {
        self.report.as_ref().and_then(|r| r.status.as_ref())
    }

    /// Whether this replica may write it at all.
    pub fn is_writable(&self) -> bool {
        self.report.is_some()
    }
}

/// Finds (or creates, owned by the subject) the subject's report.
pub async fn open_report(shared: &Shared, subject: &Subject) -> Result<OpenReport, kube::Error> {
    let api: Api<PipelineSecurityReport> =
        Api::namespaced(shared.client.clone(), &subject.namespace);
    let mut name = report_name(subject.kind, &subject.namespace, &subject.name);
    for _ in 0..ATTEMPTS {
        match api.get_opt(&name).await? {
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
            }
            Some(report) => {
                return Ok(OpenReport {
                    name,
                    report: Some(report),
                });
            }
            None => {
                if !shared.writes.is_open() {
                    return Ok(OpenReport { name, report: None });
                }
                match api
                    .create(&PostParams::default(), &new_report(&name, subject))
                    .await
                {
                    Ok(created) => {
                        return Ok(OpenReport {
                            name,
                            report: Some(created),
                        });
                    }
                    Err(kube::Error::Api(status)) if status.code == 409 => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Err(kube::Error::Service(
        format!("report {name}: too many conflicting writes").into(),
    ))
}

/// Writes `desired` as the report's status if it differs (time stamps settled against the
/// status there), with the read resourceVersion as precondition; a conflict re-reads.
pub async fn write_status(
    shared: &Shared,
    subject: &Subject,
    open: OpenReport,
    desired: &PipelineSecurityReportStatus,
) -> Result<Written, kube::Error> {
    let name = open.name;
    let Some(mut existing) = open.report else {
        return Ok(not_written(name, None));
    };
    let api: Api<PipelineSecurityReport> =
        Api::namespaced(shared.client.clone(), &subject.namespace);
    let first_seen = existing.status.clone();
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let previous = existing.status.clone();
        let mut status = desired.clone();
        if !settle(&mut status, previous.as_ref(), shared.settings.clock.now()) {
            return Ok(not_written(name, first_seen));
        }
        if !shared.writes.is_open() {
            return Ok(not_written(name, first_seen));
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
                    previous: first_seen,
                    changed: true,
                });
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                tracing::debug!(report = %name, "status write conflicted; re-reading");
                last_error = Some(kube::Error::Api(status));
                match api.get_opt(&name).await? {
                    Some(report) => existing = report,
                    // Deleted under us (the subject went): nothing to write.
                    None => return Ok(not_written(name, first_seen)),
                }
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
        owner_references: Some(vec![subject.owner_reference()]),
        ..ObjectMeta::default()
    };
    report
}
