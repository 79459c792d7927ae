//! TK-002: tasks, pipelines and StepActions fetched by a mutable reference.

use std::ops::Range;

use sluice_pack_sdk::image::{self, ImagePin};
use sluice_pack_sdk::shell::download::has_commit_sha;
use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity, Span};

use super::Context;
use crate::exposure::PAC;
use crate::model::{Kind, Ref, span_in};
use crate::substitution;
use crate::walk::Visit;

pub const META: RuleMeta = RuleMeta {
    id: "TK-002",
    name: "unpinned-task-reference",
    title: "Task or pipeline fetched by a mutable reference",
    default_severity: Severity::Medium,
    default_confidence: Confidence::High,
    description: include_str!("tk002_unpinned_reference.md"),
    remediation: "Pin bundles by digest (`quay.io/org/task-build:0.2@sha256:<digest>`), git \
        resolvers by commit SHA (`revision: 3f0c…` with all 40 hex digits), hub resolvers by \
        exact `version`, and PaC remote tasks by `name:version` or a URL with a commit SHA. \
        Let Renovate or MintMaker update the pins.",
    help_uri: "",
    tags: &["unpinned-reference", "supply-chain"],
};

pub fn check(context: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for visit in context.visits {
        match visit {
            Visit::Reference {
                path,
                owner,
                reference,
            } => check_reference(path, owner, reference, findings),
            Visit::Task {
                path, owner, spec, ..
            } => {
                for container in spec.containers() {
                    if let Some(import) = container.lighthouse_import() {
                        check_lighthouse_import(path, &container.place(owner), import, findings);
                    }
                }
            }
            Visit::StepAction { .. } | Visit::Run { .. } => {}
        }
    }
    for entry in &context.repository.entries {
        if matches!(entry.resource.kind, Kind::PipelineRun | Kind::TaskRun) {
            for (key, value) in entry.resource.annotations() {
                let Some(name) = key.as_str().and_then(|k| k.strip_prefix(PAC)) else {
                    continue;
                };
                if name == "pipeline" || name == "task" || name.starts_with("task-") {
                    check_annotation(entry.path, &entry.resource.label(), name, value, findings);
                }
            }
        }
    }
}

struct Problem {
    severity: Severity,
    confidence: Confidence,
    what: String,
}

fn problem(severity: Severity, confidence: Confidence, what: impl Into<String>) -> Option<Problem> {
    Some(Problem {
        severity,
        confidence,
        what: what.into(),
    })
}

fn dynamic(node: &Node) -> bool {
    node.as_str().is_some_and(|t| {
        !substitution::references(t).is_empty() || !substitution::placeholders(t).is_empty()
    })
}

fn expressions(text: &str) -> Vec<Range<usize>> {
    substitution::references(text)
        .into_iter()
        .map(|s| s.range)
        .chain(
            substitution::placeholders(text)
                .into_iter()
                .map(|p| p.range),
        )
        .collect()
}

fn check_reference(path: &str, owner: &str, reference: &Ref<'_>, findings: &mut Vec<Finding>) {
    let resolver = reference.resolver().and_then(Node::as_str).map(str::trim);
    let (node, verdict): (&Node, Option<Problem>) = match (reference.bundle(), resolver) {
        (Some(bundle), _) => (bundle, judge_bundle(bundle)),
        (None, Some("bundles")) => match reference.param("bundle") {
            Some(bundle) => (bundle, judge_bundle(bundle)),
            None => return,
        },
        (None, Some("git")) => match reference.param("revision") {
            Some(revision) => (revision, judge_git_revision(revision)),
            None => (
                reference.resolver().unwrap_or(reference.node),
                problem(
                    Severity::High,
                    Confidence::High,
                    "uses the git resolver without `revision` (the default branch, which moves with every push)",
                ),
            ),
        },
        (None, Some("hub")) => match reference.param("version") {
            Some(version) if dynamic(version) => (
                version,
                problem(
                    Severity::Low,
                    Confidence::Low,
                    "takes its hub version from a run-time value",
                ),
            ),
            Some(_) => return,
            None => (
                reference.resolver().unwrap_or(reference.node),
                problem(
                    Severity::High,
                    Confidence::High,
                    "uses the hub resolver without `version` (the newest version in the catalog)",
                ),
            ),
        },
        (None, Some("http")) => match reference.param("url") {
            Some(url) => (url, judge_url(url)),
            None => return,
        },
        (None, Some("cluster")) => (
            reference.resolver().unwrap_or(reference.node),
            problem(
                Severity::Info,
                Confidence::Medium,
                "uses the cluster resolver: the object is read by name and changes when anyone with write access to its namespace edits it",
            ),
        ),
        (None, Some(other)) => (
            reference.resolver().unwrap_or(reference.node),
            problem(
                Severity::Info,
                Confidence::Low,
                format!("uses the `{other}` resolver, whose pinning cannot be judged"),
            ),
        ),
        (None, None) => return,
    };
    let Some(problem) = verdict else { return };
    let written = node.as_str().unwrap_or(resolver.unwrap_or_default());
    let target = reference
        .name()
        .or_else(|| reference.param("name"))
        .or_else(|| reference.param("pathInRepo"))
        .and_then(Node::as_str)
        .map_or_else(|| " a definition".to_owned(), |n| format!(" `{n}`"));
    findings.push(
        Finding::new(&META, path, node.span)
            .severity(problem.severity)
            .confidence(problem.confidence)
            .message(format!(
                "{owner} references{target}, which {}",
                problem.what
            ))
            .fingerprint_key(format!("{}|{written}", node.route))
            .property("reference", written),
    );
}

fn judge_bundle(bundle: &Node) -> Option<Problem> {
    let text = bundle.as_str()?.trim();
    let (pin, tag) = image::classify(text, expressions);
    match pin {
        ImagePin::Digest => None,
        ImagePin::Unknown => problem(
            Severity::Low,
            Confidence::Low,
            format!("is fetched from the bundle `{text}`, chosen at run time"),
        ),
        ImagePin::Tag if dynamic(bundle) => problem(
            Severity::Medium,
            Confidence::Medium,
            format!("is fetched from the bundle `{text}` by a partly run-time tag"),
        ),
        ImagePin::Tag => problem(
            Severity::Medium,
            Confidence::High,
            format!(
                "is fetched from the bundle `{text}` by the tag `{}`, which can be moved, not by `@sha256:` digest",
                tag.unwrap_or_default()
            ),
        ),
        ImagePin::Latest | ImagePin::NoTag => problem(
            Severity::High,
            Confidence::High,
            format!("is fetched from the bundle `{text}` without digest or fixed tag"),
        ),
    }
}

fn is_commit_sha(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

fn judge_git_revision(revision: &Node) -> Option<Problem> {
    let text = revision.as_str()?.trim();
    if is_commit_sha(text) {
        return None;
    }
    if dynamic(revision) {
        return problem(
            Severity::Low,
            Confidence::Low,
            format!("is fetched from git at the run-time revision `{text}`"),
        );
    }
    problem(
        Severity::Medium,
        Confidence::High,
        format!("is fetched from git at `{text}`, a branch or tag that can move, not a commit SHA"),
    )
}

fn judge_url(url: &Node) -> Option<Problem> {
    let text = url.as_str()?.trim();
    if has_commit_sha(text) {
        return None;
    }
    if dynamic(url) {
        return problem(
            Severity::Low,
            Confidence::Low,
            format!("is downloaded from the run-time URL `{text}`"),
        );
    }
    problem(
        Severity::Medium,
        Confidence::High,
        format!("is downloaded from `{text}`, whose content can change (no commit SHA in the URL)"),
    )
}

/// `pipelinesascode.tekton.dev/task: "[git-clone, https://…/task.yaml, .tekton/t.yaml]"`.
fn check_annotation(path: &str, run: &str, name: &str, value: &Node, findings: &mut Vec<Finding>) {
    let Some(text) = value.as_str() else { return };
    let mut offset = 0;
    for raw in text.split(',') {
        let start = offset;
        offset += raw.len() + 1;
        let trimmed_start = raw.len() - raw.trim_start_matches([' ', '[', '"', '\'', '\n']).len();
        let item = raw
            .trim_start_matches([' ', '[', '"', '\'', '\n'])
            .trim_end_matches([' ', ']', '"', '\'', '\n']);
        if item.is_empty() {
            continue;
        }
        let range = start + trimmed_start..start + trimmed_start + item.len();
        let span: Span = span_in(value, range);
        let (severity, what) = if item.starts_with("http://") || item.starts_with("https://") {
            if has_commit_sha(item) {
                continue;
            }
            (
                Severity::Medium,
                format!("downloads `{item}`, whose content can change (no commit SHA in the URL)"),
            )
        } else if item.contains('/') || item.ends_with(".yaml") || item.ends_with(".yml") {
            // A file of the repository itself: it changes with the code it builds.
            continue;
        } else if item.contains(':') || item.contains("{{") {
            continue;
        } else {
            (
                Severity::High,
                format!("fetches `{item}` from the hub catalog at its newest version"),
            )
        };
        findings.push(
            Finding::new(&META, path, span)
                .severity(severity)
                .confidence(Confidence::High)
                .message(format!(
                    "Pipelines-as-Code annotation `{name}` of {run} {what}"
                ))
                .fingerprint_key(format!("{}|{item}", value.route))
                .property("reference", item),
        );
    }
}

/// Jenkins X `image: uses:jenkins-x/jx3-pipeline-catalog/tasks/go/release.yaml@versionStream`.
fn check_lighthouse_import(path: &str, place: &str, import: &Node, findings: &mut Vec<Finding>) {
    let Some(text) = import.as_str() else { return };
    let target = text.trim().trim_start_matches("uses:");
    let reference = target.rsplit_once('@').map(|(_, r)| r);
    let (severity, confidence, what) = match reference {
        Some(sha) if is_commit_sha(sha) => return,
        Some("versionStream") => (
            Severity::Low,
            Confidence::Medium,
            "at `versionStream`: the version the cluster's version stream repository names, \
             which moves when that repository is updated"
                .to_owned(),
        ),
        Some(other) => (
            Severity::Medium,
            Confidence::High,
            format!("at `{other}`, a branch or tag that can move, not a commit SHA"),
        ),
        None => (
            Severity::High,
            Confidence::High,
            "without a ref (the default branch)".to_owned(),
        ),
    };
    findings.push(
        Finding::new(&META, path, import.span)
            .severity(severity)
            .confidence(confidence)
            .message(format!(
                "{place} imports its steps from `{target}` (Jenkins X `uses:`) {what}"
            ))
            .fingerprint_key(format!("{}|{target}", import.route))
            .property("reference", target),
    );
}
