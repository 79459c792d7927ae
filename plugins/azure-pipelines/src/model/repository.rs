//! The files of one request, and how a `template:` reference names one of them.

use std::collections::{HashMap, HashSet};

use sluice_pack_sdk::yaml::{Node, Value};

use super::yaml_ext;

/// Every parsed file of the request.
#[derive(Debug, Default)]
pub struct Files<'a> {
    by_path: HashMap<&'a str, &'a Node>,
    by_lower: HashMap<String, &'a str>,
    order: Vec<&'a str>,
}

/// What a `template:` value refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// A file of this repository (normalised path).
    Local(String),
    /// `file@alias`: a file of a repository resource, never in the request.
    Remote { file: &'a str, alias: &'a str },
    /// An expression (`${{ parameters.template }}`): decided at compile time.
    Dynamic,
}

impl<'a> Files<'a> {
    pub fn new(files: Vec<(&'a str, &'a Node)>) -> Files<'a> {
        let mut index = Files::default();
        for (path, root) in files {
            index.by_path.insert(path, root);
            index.by_lower.insert(path.to_ascii_lowercase(), path);
            index.order.push(path);
        }
        index
    }

    /// Paths in request order.
    pub fn paths(&self) -> &[&'a str] {
        &self.order
    }

    pub fn root(&self, path: &str) -> Option<&'a Node> {
        self.by_path.get(path).copied()
    }

    /// The request file `target` names, case-insensitively as a last resort (Windows
    /// repositories are often inconsistent).
    pub fn find(&self, target: &str) -> Option<(&'a str, &'a Node)> {
        if let Some((path, root)) = self.by_path.get_key_value(target) {
            return Some((path, root));
        }
        let path = self.by_lower.get(&target.to_ascii_lowercase())?;
        Some((path, self.by_path.get(path)?))
    }
}

/// Resolves a `template:` value written in `from`.
pub fn target<'t>(from: &str, reference: &'t str) -> Target<'t> {
    let reference = reference.trim();
    if reference.contains("${{") || reference.contains("$(") {
        return Target::Dynamic;
    }
    let (file, alias) = match reference.rsplit_once('@') {
        Some((file, alias)) => (file, Some(alias)),
        None => (reference, None),
    };
    if let Some(alias) = alias
        && !alias.eq_ignore_ascii_case("self")
    {
        return Target::Remote { file, alias };
    }
    let file = file.replace('\\', "/");
    let joined = match file.strip_prefix('/') {
        Some(from_root) => from_root.to_owned(),
        None => match from.rfind('/') {
            Some(slash) => format!("{}/{file}", &from[..slash]),
            None => file,
        },
    };
    Target::Local(normalise(&joined))
}

/// Removes `.` and `..` segments.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// Every local file a file references with `template:` (at any depth), for deciding which
/// files are templates of others.
pub fn referenced_files(path: &str, root: &Node, out: &mut HashSet<String>) {
    walk_references(path, root, out, 0);
}

fn walk_references(path: &str, node: &Node, out: &mut HashSet<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match &node.value {
        Value::Mapping(mapping) => {
            for (key, value) in mapping.iter() {
                if key.as_str() == Some("template")
                    && let Some(reference) = value.as_str()
                    && let Target::Local(file) = target(path, reference)
                {
                    out.insert(file.to_ascii_lowercase());
                }
                walk_references(path, value, out, depth + 1);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                walk_references(path, item, out, depth + 1);
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
}

/// Keys a template may have at its root; a file with only these, and either declared
/// parameters or no body a pipeline could run on its own, is a template, not a pipeline.
const TEMPLATE_KEYS: &[&str] = &["parameters", "steps", "jobs", "stages", "variables"];

/// Whether a file looks like a template rather than a pipeline: only template keys, and
/// declared parameters, no body a pipeline could run, or a path that says `template`.
pub fn is_template_shaped(path: &str, root: &Node) -> bool {
    let Some(mapping) = root.as_mapping() else {
        return false;
    };
    let keys: Vec<String> = yaml_ext::entries(root)
        .into_iter()
        .filter_map(|(k, _, _)| k.as_str().map(str::to_ascii_lowercase))
        .collect();
    if keys.is_empty() && mapping.iter().all(|(k, _)| yaml_ext::is_insertion(k)) {
        return true;
    }
    let only_template_keys = keys.iter().all(|k| TEMPLATE_KEYS.contains(&k.as_str()));
    let has_parameters = keys.iter().any(|k| k == "parameters");
    let has_body = keys
        .iter()
        .any(|k| matches!(k.as_str(), "steps" | "jobs" | "stages"));
    let named_template = path.to_ascii_lowercase().contains("template");
    only_template_keys && (has_parameters || !has_body || named_template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target("eng/pipelines/ci.yml", "templates/build.yml"),
            Target::Local("eng/pipelines/templates/build.yml".to_owned())
        );
        assert_eq!(
            target("eng/pipelines/ci.yml", "/eng/steps.yml"),
            Target::Local("eng/steps.yml".to_owned())
        );
        assert_eq!(
            target("a/b/c.yml", "../x.yml@self"),
            Target::Local("a/x.yml".to_owned())
        );
        assert_eq!(
            target("ci.yml", "v1/t.yml@templates"),
            Target::Remote {
                file: "v1/t.yml",
                alias: "templates"
            }
        );
        assert_eq!(target("ci.yml", "${{ parameters.t }}"), Target::Dynamic);
    }
}
