//! GL-010: merge request pipelines writing a cache other pipelines restore.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::exposure;
use crate::model::{At, Val};

pub const META: RuleMeta = RuleMeta {
    id: "GL-010",
    name: "cache-poisoning",
    title: "Merge request pipeline writes a shared cache",
    default_severity: Severity::Medium,
    default_confidence: Confidence::Medium,
    description: include_str!("gl010_cache_poisoning.md"),
    remediation: "Scope cache keys to the ref (`key: $CI_COMMIT_REF_SLUG`, `prefix: \
        $CI_COMMIT_REF_SLUG` with `files:`), use `policy: pull` in merge request jobs, and keep \
        \"Use separate caches for protected branches\" enabled.",
    help_uri: "",
    tags: &["cache", "untrusted-code"],
};

const REF_SCOPED: &[&str] = &[
    "CI_COMMIT_REF_SLUG",
    "CI_COMMIT_REF_NAME",
    "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_ID",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_SHA",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
];

const SHARED: &[&str] = &[
    "CI_DEFAULT_BRANCH",
    "CI_PROJECT_ID",
    "CI_PROJECT_NAME",
    "CI_PROJECT_PATH",
    "CI_PROJECT_PATH_SLUG",
    "CI_JOB_NAME",
    "CI_JOB_NAME_SLUG",
    "CI_JOB_STAGE",
];

#[derive(PartialEq)]
enum Scope {
    Shared,
    RefScoped,
    Unknown,
}

fn scope_of(text: &str) -> Scope {
    let names = crate::scripts::referenced_names(text);
    if names.iter().any(|n| REF_SCOPED.contains(&n.as_str())) {
        Scope::RefScoped
    } else if names.iter().all(|n| SHARED.contains(&n.as_str())) {
        Scope::Shared
    } else {
        Scope::Unknown
    }
}

/// The key's scope and the node to point at.
fn key_scope<'a>(cache: &Val<'a>) -> (Scope, At<'a>, String) {
    match cache.entry("key") {
        None => (Scope::Shared, cache.at(), "default".to_owned()),
        Some((key_at, key)) => match key {
            Val::Scalar(at) => {
                let text = at.node.as_str().unwrap_or("default");
                (scope_of(text), *at, text.to_owned())
            }
            Val::Map(..) => match key
                .get("prefix")
                .and_then(|p| p.as_str().map(|s| (p.at(), s)))
            {
                Some((at, prefix)) => {
                    let scope = match scope_of(prefix) {
                        Scope::RefScoped => Scope::RefScoped,
                        _ => Scope::Shared,
                    };
                    (scope, at, format!("{prefix}-<files>"))
                }
                None => (Scope::Shared, *key_at, "<hash of files>".to_owned()),
            },
            _ => (Scope::Unknown, *key_at, String::new()),
        },
    }
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    if !context.exposure.on_mr() {
        return;
    }
    let Some(caches) = job.config.get("cache") else {
        return;
    };
    for cache in caches.flat_items() {
        // `cache: {}` switches the default cache off; a cache without paths stores nothing.
        let stores = cache
            .get("paths")
            .is_some_and(|p| !p.flat_items().is_empty())
            || cache.get("untracked").is_some_and(Val::is_true);
        if !cache.is_map() || !stores {
            continue;
        }
        let (scope, at, key) = key_scope(cache);
        let pull_only = cache.get("policy").and_then(Val::as_str) == Some("pull");
        let mut finding = match scope {
            Scope::Unknown => continue,
            Scope::RefScoped => Finding::new(&META, at.path, at.span())
                .severity(Severity::Info)
                .message(format!(
                    "job `{}` {} with a ref-scoped cache key `{key}` (only this ref's \
                     pipelines restore it)",
                    job.name,
                    exposure::describe(context.exposure)
                )),
            Scope::Shared => Finding::new(&META, at.path, at.span())
                .severity(Severity::Medium)
                .message(format!(
                    "job `{}` {} and writes cache key `{key}`, which every branch shares",
                    job.name,
                    exposure::describe(context.exposure)
                ))
                .mitigation(
                    "protected-cache-separation",
                    "GitLab keeps separate caches for protected branches by default, so \
                     protected pipelines do not restore it unless that setting is off",
                )
                .confidence(Confidence::Medium),
        };
        if pull_only && finding.severity > Severity::Info {
            finding.severity = Severity::Info;
            finding = finding.mitigation(
                "pull-policy",
                "`policy: pull`: the job cannot write the cache",
            );
        }
        finding = finding
            .fingerprint_key(format!("{}|{key}|{}", at.route(), job.name))
            .property("job", job.name)
            .property("key", key);
        findings.push(exposure::apply_gates(finding, context.exposure));
    }
}
