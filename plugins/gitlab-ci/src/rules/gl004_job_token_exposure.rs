//! GL-004: `CI_JOB_TOKEN` leaving the job: sent to another host, written to a file, or
//! reachable by merge request code.

use sluice_pack_sdk::shell::{self, Command, reeval};
use sluice_pack_sdk::{Confidence, Finding, RuleMeta, Severity};

use super::JobContext;
use crate::exposure::{self, Runs};
use crate::pipeline::Job;
use crate::scripts::{build_in_checkout, referenced_names, span_in};

pub const META: RuleMeta = RuleMeta {
    id: "GL-004",
    name: "job-token-exposure",
    title: "CI_JOB_TOKEN exposed beyond the GitLab instance or to merge request code",
    default_severity: Severity::Medium,
    default_confidence: Confidence::Medium,
    description: include_str!("gl004_job_token_exposure.md"),
    remediation: "Use the token only against the GitLab instance (`$CI_SERVER_HOST`, \
        `$CI_REGISTRY`, `$CI_API_V4_URL`), restrict which projects accept it (Settings → CI/CD \
        → Job token permissions), never write it into files that become artifacts, and keep \
        jobs that use it out of merge request pipelines that build untrusted code.",
    help_uri: "",
    tags: &["secrets", "permissions"],
};

fn is_token_reference(job: &Job<'_>, name: &str) -> bool {
    name == "CI_JOB_TOKEN"
        || job
            .variable(name)
            .is_some_and(|(_, value)| referenced_names(value).iter().any(|n| n == "CI_JOB_TOKEN"))
}

/// The literal host of the first `http(s)://` URL of a word.
fn literal_host(text: &str) -> Option<&str> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let rest = &text[start..];
    let rest = rest.split_once("://")?.1;
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

fn looks_like_instance(host: &str) -> bool {
    host.contains('$') || host.to_ascii_lowercase().contains("gitlab")
}

/// Where a command's output goes, if redirected to a file.
fn redirect_target(script: &str, command: &Command<'_>) -> Option<String> {
    if command.program().is_some_and(|p| p.text == "tee") {
        return command
            .args()
            .iter()
            .find(|a| !a.text.starts_with('-'))
            .map(|a| a.text.clone());
    }
    let rest = script[command.range.end..].trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix(">>").or_else(|| rest.strip_prefix('>'))?;
    let target: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|'))
        .collect();
    let target = target.trim_matches(|c| c == '"' || c == '\'').to_owned();
    (!target.is_empty()).then_some(target)
}

pub fn check(context: &JobContext<'_, '_>, findings: &mut Vec<Finding>) {
    let job = context.job;
    let artifact_paths: Vec<String> = job
        .config
        .get("artifacts")
        .and_then(|a| a.get("paths"))
        .map(|p| {
            p.flat_items()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut first_use = None;
    let builds = build_in_checkout(&job.script_lines()).map(|(_, _, text)| text);
    let mut piped_from_token = false;
    for (section, at) in job.script_lines() {
        let Some(script) = at.node.as_str() else {
            continue;
        };
        for command in shell::commands(script) {
            let reference = command.words.iter().find_map(|w| {
                reeval::expanded_refs(w.raw, w.range.start)
                    .into_iter()
                    .find(|r| is_token_reference(job, &r.name))
            });
            // `echo $CI_JOB_TOKEN | tee file`: the token flows into the next command.
            let uses_token = reference.is_some() || piped_from_token;
            let rest = script[command.range.end..].trim_start_matches([' ', '\t']);
            piped_from_token =
                reference.is_some() && rest.starts_with('|') && !rest.starts_with("||");
            if !uses_token {
                continue;
            }
            let range = reference
                .as_ref()
                .map_or(command.range.clone(), |r| r.range.clone());
            let span = span_in(&at, range);
            if reference.is_some() && first_use.is_none() {
                first_use = Some((at, span));
            }
            let key = |what: &str| format!("{}|{what}|{}", at.route(), command.text());
            let program = command
                .program()
                .map(|p| p.text.as_str())
                .unwrap_or_default();
            // Sent to a host.
            let host = command
                .args()
                .iter()
                .find_map(|w| literal_host(&w.text))
                .or_else(|| {
                    if matches!(program, "docker" | "podman" | "helm" | "buildah" | "skopeo")
                        && command.args().first().is_some_and(|a| a.text == "login")
                    {
                        // The registry is the last operand (`docker login -u u -p p registry`).
                        command.args()[1..]
                            .iter()
                            .rev()
                            .find(|w| !w.text.starts_with('-'))
                            .map(|w| w.text.as_str())
                    } else {
                        None
                    }
                });
            if let Some(host) = host.filter(|h| !looks_like_instance(h)) {
                findings.push(
                    Finding::new(&META, at.path, span)
                        .severity(Severity::Medium)
                        .confidence(Confidence::Medium)
                        .message(format!(
                            "job `{}` sends `CI_JOB_TOKEN` to `{host}` in its {section}, a host \
                             that does not look like the GitLab instance",
                            job.name
                        ))
                        .fingerprint_key(key(host))
                        .property("job", job.name)
                        .property("host", host),
                );
                continue;
            }
            if let Some(target) = redirect_target(script, &command) {
                let file_name = target.rsplit('/').next().unwrap_or(&target).to_owned();
                let in_artifacts = artifact_paths
                    .iter()
                    .any(|p| p.contains(&file_name) || target.starts_with(p.trim_end_matches('/')));
                let outside = target.starts_with('~')
                    || target.starts_with("$HOME")
                    || target.starts_with("${HOME}")
                    || target.starts_with('/');
                let (severity, where_) = if in_artifacts {
                    (Severity::High, "which the job uploads as an artifact")
                } else if outside {
                    (Severity::Low, "outside the project directory")
                } else {
                    (
                        Severity::Medium,
                        "inside the project directory, where artifacts and caches can pick it up",
                    )
                };
                findings.push(
                    Finding::new(&META, at.path, span)
                        .severity(severity)
                        .confidence(Confidence::High)
                        .message(format!(
                            "job `{}` writes `CI_JOB_TOKEN` to `{target}` in its {section}, {where_}",
                            job.name
                        ))
                        .fingerprint_key(key(&target))
                        .property("job", job.name)
                        .property("file", target.clone()),
                );
            }
        }
    }
    if context.exposure.runs == Runs::Explicit
        && let (Some((at, span)), Some(build)) = (first_use, builds)
    {
        let finding = Finding::new(&META, at.path, span)
            .severity(Severity::Medium)
            .confidence(Confidence::Medium)
            .message(format!(
                "job `{}` {} and uses `CI_JOB_TOKEN` while it runs `{build}` on merge request \
                 code, which can read the token from its environment",
                job.name,
                exposure::describe(context.exposure)
            ))
            .fingerprint_key(format!("{}|mr-reachable", at.route()))
            .property("job", job.name);
        findings.push(exposure::apply_gates(finding, context.exposure));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts() {
        assert_eq!(
            super::literal_host("https://gitlab-ci-token:${CI_JOB_TOKEN}@example.com/x.git"),
            Some("example.com")
        );
        assert_eq!(super::literal_host("http://h:8080/a"), Some("h"));
        assert!(super::looks_like_instance("gitlab.gnome.org"));
        assert!(super::looks_like_instance("${CI_SERVER_HOST}"));
    }
}
