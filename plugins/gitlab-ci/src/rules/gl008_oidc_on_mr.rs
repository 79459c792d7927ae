//! GL-008: OIDC `id_tokens` issued to jobs of merge request pipelines.

use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::exposure;
use crate::model::Val;

pub const META: RuleMeta = RuleMeta {
    id: "GL-008",
    name: "oidc-token-on-mr",
    title: "OIDC ID token issued in a merge request pipeline",
    default_severity: Severity::High,
    default_confidence: Confidence::High,
    description: include_str!("gl008_oidc_on_mr.md"),
    remediation: "Issue ID tokens only in jobs that run on protected branches or tags, set a \
        specific `aud:`, and make the cloud role's trust policy require \
        `ref_protected: true` and the expected `project_path`/`ref`.",
    help_uri: "",
    tags: &["oidc", "permissions"],
};

fn broad(audience: &str) -> bool {
    let lower = audience.trim().trim_end_matches('/').to_ascii_lowercase();
    lower.is_empty()
        || lower == "*"
        || lower == "https://gitlab.com"
        || lower == "https://gitlab.example.com"
        || lower == "$ci_server_url"
        || lower == "${ci_server_url}"
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    if !context.exposure.on_mr() {
        return;
    }
    let Some(tokens) = job.config.get("id_tokens") else {
        return;
    };
    for (name_at, token) in tokens.entries() {
        let Some(name) = name_at.node.as_str() else {
            continue;
        };
        let audiences: Vec<&str> = token
            .get("aud")
            .map(|a| a.flat_items().iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let (severity, detail) = if audiences.is_empty() {
            (Severity::High, "without an audience".to_owned())
        } else if let Some(b) = audiences.iter().find(|a| broad(a)) {
            (Severity::High, format!("with the broad audience `{b}`"))
        } else {
            (
                Severity::Medium,
                format!("for audience `{}`", audiences.join("`, `")),
            )
        };
        let span_at = token.get("aud").map_or(*name_at, Val::at);
        let finding = Finding::new(&META, name_at.path, name_at.span())
            .severity(severity)
            .message(format!(
                "job `{}` {} and is issued ID token `{name}` {detail}, readable by the merge \
                 request's code",
                job.name,
                exposure::describe(context.exposure)
            ))
            .fingerprint_key(format!("{}|{name}", name_at.route()))
            .related(span_at.path, span_at.span(), "audience")
            .property("job", job.name)
            .property("token", name);
        findings.push(exposure::apply_gates(finding, context.exposure));
    }
}
