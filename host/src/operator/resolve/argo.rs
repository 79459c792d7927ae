//! Argo CD `Application`: `sourceHydrator` > `sources[]` > `source`, deployed revision first.

use serde_json::Value;

use super::{Resolution, Revision, Unscannable, commit_sha, repository, str_at};

pub fn resolve_application(app: &Value) -> Resolution {
    let spec = app.get("spec").unwrap_or(&Value::Null);
    // The hydrator's dry source is where people write manifests and pipelines; the deployed
    // revision in status is the hydrated branch's commit, so it is not used here.
    if let Some(dry) = spec.pointer("/sourceHydrator/drySource")
        && let Some(url) = str_at(dry, "/repoURL")
    {
        return repository(
            url,
            revision(None, str_at(dry, "/targetRevision")),
            str_at(dry, "/path").map(str::to_owned),
        );
    }
    if let Some(sources) = spec.get("sources").and_then(Value::as_array)
        && !sources.is_empty()
    {
        let deployed = app
            .pointer("/status/sync/revisions")
            .and_then(Value::as_array);
        // Prefer a Git source that produces manifests (has a path) over a `ref`-only source
        // of value files; Helm charts and OCI sources have no pipelines to read.
        let git = |source: &&Value| {
            str_at(source, "/chart").is_none()
                && str_at(source, "/repoURL").is_some_and(|u| !u.starts_with("oci://"))
        };
        let chosen = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| git(s))
            .min_by_key(|(_, s)| str_at(s, "/path").is_none());
        return match chosen {
            Some((index, source)) => single(
                source,
                deployed
                    .and_then(|revisions| revisions.get(index))
                    .and_then(Value::as_str),
            ),
            None => chart_or_oci(&sources[0]),
        };
    }
    if let Some(source) = spec.get("source") {
        return single(source, str_at(app, "/status/sync/revision"));
    }
    Resolution::Unscannable {
        reason: Unscannable::NoRepository,
        message: "the Application has no source".to_owned(),
    }
}

fn single(source: &Value, deployed: Option<&str>) -> Resolution {
    if str_at(source, "/chart").is_some() {
        return chart_or_oci(source);
    }
    let Some(url) = str_at(source, "/repoURL") else {
        return Resolution::Unscannable {
            reason: Unscannable::NoRepository,
            message: "the Application's source has no repoURL".to_owned(),
        };
    };
    repository(
        url,
        revision(deployed, str_at(source, "/targetRevision")),
        str_at(source, "/path").map(str::to_owned),
    )
}

fn chart_or_oci(source: &Value) -> Resolution {
    let url = str_at(source, "/repoURL").unwrap_or("");
    if let Some(chart) = str_at(source, "/chart") {
        Resolution::Unscannable {
            reason: Unscannable::HelmChartSource,
            message: format!("Helm chart `{chart}` from `{url}`: no pipelines to scan"),
        }
    } else {
        Resolution::Unscannable {
            reason: Unscannable::OciSource,
            message: format!("`{url}` is an OCI artifact, not a Git repository"),
        }
    }
}

/// The deployed commit when Argo recorded one; else `targetRevision` (`HEAD` or empty is the
/// default branch; a SHA is a commit).
fn revision(deployed: Option<&str>, target: Option<&str>) -> Revision {
    if let Some(commit) = deployed.and_then(commit_sha) {
        return Revision {
            commit: Some(commit),
            git_ref: target.filter(|t| *t != "HEAD").map(str::to_owned),
        };
    }
    match target {
        None | Some("HEAD") => Revision::default(),
        Some(target) => match commit_sha(target) {
            Some(commit) => Revision {
                commit: Some(commit),
                git_ref: None,
            },
            None => Revision {
                commit: None,
                git_ref: Some(super::api_ref(target)),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::operator::resolve::RepositoryTarget;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const SHA2: &str = "89abcdef0123456789abcdef0123456789abcdef";

    fn target(resolution: Resolution) -> RepositoryTarget {
        match resolution {
            Resolution::Repository(t) => t,
            other => panic!("expected a repository, got {other:?}"),
        }
    }

    #[test]
    fn a_single_source_at_its_deployed_commit() {
        let app = json!({
            "spec": {"source": {"repoURL": "git@github.com:octo/app.git", "targetRevision": "main", "path": "deploy"}},
            "status": {"sync": {"revision": SHA}}
        });
        let t = target(resolve_application(&app));
        assert_eq!(t.repo.full_name(), "octo/app");
        assert_eq!(t.revision.commit.as_deref(), Some(SHA));
        assert_eq!(t.revision.git_ref.as_deref(), Some("main"));
        assert_eq!(t.path.as_deref(), Some("deploy"));
    }

    #[test]
    fn without_a_deployed_commit_the_target_revision_is_resolved() {
        let head = json!({"spec": {"source": {"repoURL": "https://github.com/octo/app", "targetRevision": "HEAD"}}});
        assert_eq!(
            target(resolve_application(&head)).revision,
            Revision::default()
        );
        let tag = json!({"spec": {"source": {"repoURL": "https://github.com/octo/app", "targetRevision": "refs/tags/v1.2"}}});
        assert_eq!(
            target(resolve_application(&tag))
                .revision
                .git_ref
                .as_deref(),
            Some("v1.2")
        );
        let pinned = json!({"spec": {"source": {"repoURL": "https://github.com/octo/app", "targetRevision": SHA.to_uppercase()}}});
        assert_eq!(
            target(resolve_application(&pinned))
                .revision
                .commit
                .as_deref(),
            Some(SHA)
        );
    }

    #[test]
    fn sources_skip_charts_and_prefer_a_manifest_source_with_its_own_revision() {
        let app = json!({
            "spec": {"sources": [
                {"repoURL": "https://charts.example.com", "chart": "redis", "targetRevision": "1.0.0"},
                {"repoURL": "https://github.com/octo/values", "ref": "values"},
                {"repoURL": "https://github.com/octo/app", "path": "k8s"}
            ]},
            "status": {"sync": {"revisions": ["1.0.0", SHA2, SHA]}}
        });
        let t = target(resolve_application(&app));
        assert_eq!(t.repo.full_name(), "octo/app");
        assert_eq!(t.revision.commit.as_deref(), Some(SHA));
    }

    #[test]
    fn the_hydrator_beats_sources_and_source() {
        let app = json!({
            "spec": {
                "sourceHydrator": {
                    "drySource": {"repoURL": "https://github.com/octo/dry", "targetRevision": "main", "path": "env/prod"},
                    "syncSource": {"targetBranch": "env/prod", "path": "prod"}
                },
                "sources": [{"repoURL": "https://github.com/octo/other", "path": "x"}],
                "source": {"repoURL": "https://github.com/octo/third"}
            },
            "status": {"sync": {"revision": SHA}}
        });
        let t = target(resolve_application(&app));
        assert_eq!(t.repo.full_name(), "octo/dry");
        assert_eq!(
            t.revision.commit, None,
            "the hydrated commit is not the dry one"
        );
        assert_eq!(t.revision.git_ref.as_deref(), Some("main"));
        let sources = json!({"spec": {
            "sources": [{"repoURL": "https://github.com/octo/other", "path": "x"}],
            "source": {"repoURL": "https://github.com/octo/third"}
        }});
        assert_eq!(
            target(resolve_application(&sources)).repo.full_name(),
            "octo/other"
        );
    }

    #[test]
    fn helm_and_oci_sources_are_skipped_with_a_reason() {
        let chart = json!({"spec": {"source": {"repoURL": "https://charts.bitnami.com/bitnami", "chart": "nginx"}}});
        assert!(matches!(
            resolve_application(&chart),
            Resolution::Unscannable {
                reason: Unscannable::HelmChartSource,
                ..
            }
        ));
        let oci =
            json!({"spec": {"source": {"repoURL": "oci://ghcr.io/octo/manifests", "path": "."}}});
        assert!(matches!(
            resolve_application(&oci),
            Resolution::Unscannable {
                reason: Unscannable::OciSource,
                ..
            }
        ));
        let only_charts =
            json!({"spec": {"sources": [{"repoURL": "oci://r.example/c", "chart": "c"}]}});
        assert!(matches!(
            resolve_application(&only_charts),
            Resolution::Unscannable {
                reason: Unscannable::HelmChartSource,
                ..
            }
        ));
        assert!(matches!(
            resolve_application(&json!({"spec": {}})),
            Resolution::Unscannable {
                reason: Unscannable::NoRepository,
                ..
            }
        ));
    }
}
