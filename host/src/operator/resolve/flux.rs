//! Flux sources: `GitRepository` (`spec.url`, `status.artifact.revision` first, then the
//! `spec.ref` precedence commit > name > semver > tag > branch > `master`) and `OCIRepository`
//! (the Git repository its artifact records in `org.opencontainers.image.source`).

use serde_json::Value;

use super::{Resolution, Revision, Unscannable, api_ref, commit_sha, repository, str_at};

pub fn resolve_git_repository(source: &Value) -> Resolution {
    let Some(url) = str_at(source, "/spec/url") else {
        return Resolution::Unscannable {
            reason: Unscannable::NoRepository,
            message: "the GitRepository has no spec.url".to_owned(),
        };
    };
    let spec_ref = source.pointer("/spec/ref").unwrap_or(&Value::Null);
    let artifact = str_at(source, "/status/artifact/revision").and_then(parse_artifact_revision);
    let revision = if let Some((git_ref, commit)) = artifact {
        Revision {
            commit: Some(commit),
            git_ref,
        }
    } else if let Some(commit) = str_at(spec_ref, "/commit").and_then(commit_sha) {
        Revision {
            commit: Some(commit),
            git_ref: None,
        }
    } else if let Some(name) = str_at(spec_ref, "/name") {
        by_ref(name)
    } else if let Some(range) = str_at(spec_ref, "/semver") {
        return Resolution::Unscannable {
            reason: Unscannable::RevisionUnresolved,
            message: format!(
                "semver range `{range}` has no artifact yet; scanned once Flux resolves it"
            ),
        };
    } else if let Some(tag) = str_at(spec_ref, "/tag") {
        by_ref(tag)
    } else {
        // Flux's own default when no ref is given.
        by_ref(str_at(spec_ref, "/branch").unwrap_or("master"))
    };
    repository(url, revision, None)
}

pub fn resolve_oci_repository(source: &Value) -> Resolution {
    let metadata = source.pointer("/status/artifact/metadata");
    let Some(url) = metadata.and_then(|m| str_at(m, "/org.opencontainers.image.source")) else {
        return Resolution::Unscannable {
            reason: Unscannable::OciSource,
            message: "the OCI artifact records no org.opencontainers.image.source repository"
                .to_owned(),
        };
    };
    let revision = metadata
        .and_then(|m| str_at(m, "/org.opencontainers.image.revision"))
        .map(|text| match parse_artifact_revision(text) {
            Some((git_ref, commit)) => Revision {
                commit: Some(commit),
                git_ref,
            },
            None => by_ref(text),
        })
        .unwrap_or_default();
    repository(url, revision, None)
}

/// `main@sha1:<sha>` (Flux v1), `refs/heads/main@sha1:<sha>`, `<sha>` alone, or the older
/// `main/<sha>` → (ref, commit).
pub fn parse_artifact_revision(text: &str) -> Option<(Option<String>, String)> {
    if let Some((git_ref, digest)) = text.rsplit_once('@') {
        let commit = commit_sha(digest.strip_prefix("sha1:")?)?;
        return Some(((!git_ref.is_empty()).then(|| api_ref(git_ref)), commit));
    }
    if let Some(commit) = commit_sha(text) {
        return Some((None, commit));
    }
    let (git_ref, last) = text.rsplit_once('/')?;
    Some((Some(api_ref(git_ref)), commit_sha(last)?))
}

fn by_ref(git_ref: &str) -> Revision {
    match commit_sha(git_ref) {
        Some(commit) => Revision {
            commit: Some(commit),
            git_ref: None,
        },
        None => Revision {
            commit: None,
            git_ref: Some(api_ref(git_ref)),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn revision(resolution: Resolution) -> Revision {
        match resolution {
            Resolution::Repository(t) => t.revision,
            other => panic!("expected a repository, got {other:?}"),
        }
    }

    fn git(spec_ref: Value) -> Value {
        json!({"spec": {"url": "ssh://git@github.com/octo/app", "ref": spec_ref}})
    }

    #[test]
    fn artifact_revisions_in_every_format() {
        for (text, git_ref) in [
            (format!("main@sha1:{SHA}"), Some("main")),
            (format!("refs/heads/staging@sha1:{SHA}"), Some("staging")),
            (
                format!("refs/pull/420/head@sha1:{SHA}"),
                Some("pull/420/head"),
            ),
            (format!("v0.1.0@sha1:{SHA}"), Some("v0.1.0")),
            (format!("main/{SHA}"), Some("main")),
            (SHA.to_owned(), None),
        ] {
            assert_eq!(
                parse_artifact_revision(&text),
                Some((git_ref.map(str::to_owned), SHA.to_owned())),
                "{text}"
            );
        }
        assert_eq!(parse_artifact_revision("latest@sha256:abc"), None);
        assert_eq!(parse_artifact_revision("main"), None);
    }

    #[test]
    fn the_deployed_artifact_beats_the_spec() {
        let mut source = git(json!({"branch": "dev"}));
        source["status"] = json!({"artifact": {"revision": format!("dev@sha1:{SHA}")}});
        assert_eq!(
            revision(resolve_git_repository(&source)),
            Revision {
                commit: Some(SHA.to_owned()),
                git_ref: Some("dev".to_owned())
            }
        );
    }

    #[test]
    fn spec_ref_precedence_is_commit_name_semver_tag_branch_master() {
        let r = |v| revision(resolve_git_repository(&git(v)));
        assert_eq!(
            r(json!({"commit": SHA, "name": "refs/heads/x", "tag": "v1", "branch": "b"})).commit,
            Some(SHA.to_owned())
        );
        assert_eq!(
            r(json!({"name": "refs/tags/v2", "tag": "v1", "branch": "b"})).git_ref,
            Some("v2".to_owned())
        );
        assert_eq!(
            r(json!({"tag": "v1", "branch": "b"})).git_ref,
            Some("v1".to_owned())
        );
        assert_eq!(r(json!({"branch": "b"})).git_ref, Some("b".to_owned()));
        assert_eq!(r(json!(null)).git_ref, Some("master".to_owned()));
        assert!(matches!(
            resolve_git_repository(&git(json!({"semver": ">=1.0", "branch": "b"}))),
            Resolution::Unscannable {
                reason: Unscannable::RevisionUnresolved,
                ..
            }
        ));
    }

    #[test]
    fn an_oci_repository_maps_back_to_its_source_repository() {
        let oci = json!({
            "spec": {"url": "oci://ghcr.io/octo/manifests"},
            "status": {"artifact": {"revision": "latest@sha256:abc", "metadata": {
                "org.opencontainers.image.source": "https://github.com/octo/app",
                "org.opencontainers.image.revision": format!("main@sha1:{SHA}")
            }}}
        });
        match resolve_oci_repository(&oci) {
            Resolution::Repository(t) => {
                assert_eq!(t.repo.full_name(), "octo/app");
                assert_eq!(t.revision.commit.as_deref(), Some(SHA));
            }
            other => panic!("{other:?}"),
        }
        let bare = json!({"spec": {"url": "oci://ghcr.io/octo/manifests"}});
        assert!(matches!(
            resolve_oci_repository(&bare),
            Resolution::Unscannable {
                reason: Unscannable::OciSource,
                ..
            }
        ));
    }
}
