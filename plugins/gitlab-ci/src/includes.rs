//! `include:` entries: what each file includes, and which local includes resolve to files of
//! the request.

use sluice_pack_sdk::yaml::{Node, Value};

use crate::model::At;

/// What an `include:` entry points at.
#[derive(Debug, Clone)]
pub enum IncludeKind<'a> {
    /// A file of this repository (`local:` or a bare path).
    Local(&'a str),
    /// `remote:` or a bare `http(s)://` string.
    Remote { url: &'a str, integrity: bool },
    /// `project:` + `file:` (+ `ref:`).
    Project {
        project: &'a str,
        reference: Option<At<'a>>,
    },
    /// `template:` (maintained by GitLab, shipped with the instance).
    Template(&'a str),
    /// `component:` (`host/group/project/name@version`).
    Component(&'a str),
}

/// One `include:` entry and where its value is written.
#[derive(Debug, Clone)]
pub struct Include<'a> {
    pub kind: IncludeKind<'a>,
    /// The scalar that names the target (path, URL, project, template, component).
    pub at: At<'a>,
}

/// Every include of one pipeline document.
pub fn of_document<'a>(path: &'a str, root: &'a Node) -> Vec<Include<'a>> {
    let Some(include) = root.get("include") else {
        return Vec::new();
    };
    let items: Vec<&Node> = match &include.value {
        Value::Sequence(items) => items.iter().collect(),
        _ => vec![include],
    };
    items
        .into_iter()
        .filter_map(|item| entry(path, item))
        .collect()
}

fn entry<'a>(path: &'a str, item: &'a Node) -> Option<Include<'a>> {
    if let Some(text) = item.as_str() {
        let at = At { path, node: item };
        let text = text.trim();
        let kind = if text.starts_with("https://") || text.starts_with("http://") {
            IncludeKind::Remote {
                url: text,
                integrity: false,
            }
        } else {
            IncludeKind::Local(text)
        };
        return Some(Include { kind, at });
    }
    let mapping = item.as_mapping()?;
    let scalar = |key: &str| {
        mapping
            .get(key)
            .and_then(|n| n.as_str().map(|s| (n, s.trim())))
    };
    if let Some((node, text)) = scalar("local") {
        return Some(Include {
            kind: IncludeKind::Local(text),
            at: At { path, node },
        });
    }
    if let Some((node, url)) = scalar("remote") {
        return Some(Include {
            kind: IncludeKind::Remote {
                url,
                integrity: mapping.get("integrity").is_some(),
            },
            at: At { path, node },
        });
    }
    if let Some((node, project)) = scalar("project") {
        return Some(Include {
            kind: IncludeKind::Project {
                project,
                reference: mapping.get("ref").map(|node| At { path, node }),
            },
            at: At { path, node },
        });
    }
    if let Some((node, template)) = scalar("template") {
        return Some(Include {
            kind: IncludeKind::Template(template),
            at: At { path, node },
        });
    }
    if let Some((node, component)) = scalar("component") {
        return Some(Include {
            kind: IncludeKind::Component(component),
            at: At { path, node },
        });
    }
    None
}

/// Request paths a local include names: exact, or a `*` / `**` wildcard. A leading `/` is the
/// repository root, as is a path without one.
pub fn resolve_local<'p>(pattern: &str, paths: &[&'p str]) -> Vec<&'p str> {
    let pattern = pattern.trim_start_matches('/');
    if pattern.contains('*') {
        paths
            .iter()
            .copied()
            .filter(|p| glob_match(pattern.as_bytes(), p.as_bytes()))
            .collect()
    } else {
        paths.iter().copied().filter(|p| *p == pattern).collect()
    }
}

/// `*` matches within one path segment, `**` across segments (`**/` also matches nothing).
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) if rest.first() == Some(&b'*') => {
            let rest = &rest[1..];
            let rest_after_slash = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=text.len())
                .any(|i| glob_match(rest, &text[i..]) || glob_match(rest_after_slash, &text[i..]))
        }
        Some((b'*', rest)) => {
            for i in 0..=text.len() {
                if glob_match(rest, &text[i..]) {
                    return true;
                }
                if text.get(i) == Some(&b'/') {
                    break;
                }
            }
            false
        }
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let paths = [".gitlab/ci/a.yml", ".gitlab/ci/sub/b.yml", ".gitlab-ci.yml"];
        assert_eq!(
            resolve_local("/.gitlab/ci/*.yml", &paths),
            [".gitlab/ci/a.yml"]
        );
        assert_eq!(
            resolve_local(".gitlab/**/*.yml", &paths),
            [".gitlab/ci/a.yml", ".gitlab/ci/sub/b.yml"]
        );
        assert_eq!(resolve_local(".gitlab-ci.yml", &paths), [".gitlab-ci.yml"]);
        assert!(resolve_local("missing.yml", &paths).is_empty());
    }
}
