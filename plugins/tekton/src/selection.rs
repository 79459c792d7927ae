//! Which of the files the host hands over are Tekton files.
//!
//! The pack declares its Tekton directories as patterns and every other YAML file as a content
//! pattern with the marker `tekton.dev/`, so the host hands over only YAML that mentions
//! Tekton — but with `--platform tekton` it hands over every YAML file. Files under a `.tekton/` or `tekton/` directory are Tekton files
//! by convention (Pipelines-as-Code reads `.tekton/`): their parse errors are reported. Any other
//! file is analysed only if a line declares `apiVersion: tekton.dev/…` (or a Triggers
//! `triggers.tekton.dev/…`); that test is a plain line scan, so a non-Tekton YAML file costs one
//! pass over its bytes and is never parsed, and its parse errors are not this pack's business.
//! The decision is about *whether* to look at a file; what a document is comes from its
//! `apiVersion` and `kind` alone, so the same analysis works on objects read from a cluster.

/// How a file is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// In a Tekton directory, or declares a Tekton `apiVersion`: parsed, errors reported.
    Tekton,
    /// Not a Tekton file: skipped without parsing.
    Foreign,
}

/// Decides how to treat `path` with `content`.
pub fn select(path: &str, content: &str) -> Selection {
    if in_tekton_directory(path) || declares_tekton_api(content) {
        Selection::Tekton
    } else {
        Selection::Foreign
    }
}

/// `.tekton/…` or `tekton/…` at any depth.
pub fn in_tekton_directory(path: &str) -> bool {
    let normalised = path.replace('\\', "/");
    let mut components: Vec<&str> = normalised.split('/').collect();
    // The last component is the file itself.
    components.pop();
    components.iter().any(|c| *c == ".tekton" || *c == "tekton")
}

/// Whether some line reads `apiVersion: tekton.dev/…` (quoted or not, any indentation, so
/// `List` items and trigger templates count too).
pub fn declares_tekton_api(content: &str) -> bool {
    // Cheap pre-filter: most YAML files never mention Tekton at all.
    if !content.contains("tekton.dev/") {
        return false;
    }
    content.lines().any(|line| {
        let line = line.trim_start().trim_start_matches("- ");
        line.strip_prefix("apiVersion:").is_some_and(|value| {
            let value = value.trim().trim_start_matches(['"', '\'']);
            is_tekton_api_version(value)
        })
    })
}

/// `tekton.dev/v1`, `triggers.tekton.dev/v1beta1`, …
pub fn is_tekton_api_version(value: &str) -> bool {
    value.starts_with("tekton.dev/") || value.starts_with("triggers.tekton.dev/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tekton_directories_are_recognised_at_any_depth() {
        assert!(in_tekton_directory(".tekton/pr.yaml"));
        assert!(in_tekton_directory("deploy/tekton/tasks/build.yml"));
        assert!(!in_tekton_directory("tekton.yaml"));
        assert!(!in_tekton_directory("ci/my-tekton/x.yaml"));
    }

    #[test]
    fn api_version_decides_outside_the_directories() {
        assert!(declares_tekton_api(
            "apiVersion: tekton.dev/v1\nkind: Task\n"
        ));
        assert!(declares_tekton_api(
            "---\napiVersion: \"tekton.dev/v1beta1\"\n"
        ));
        assert!(declares_tekton_api(
            "items:\n  - apiVersion: triggers.tekton.dev/v1\n"
        ));
        assert!(!declares_tekton_api("apiVersion: v1\nkind: ConfigMap\n"));
        // A mention in a label or comment is not a declaration.
        assert!(!declares_tekton_api(
            "metadata:\n  labels:\n    app: tekton.dev/x\n"
        ));
        assert_eq!(
            select("k8s/cm.yaml", "apiVersion: v1\n"),
            Selection::Foreign
        );
        assert_eq!(
            select("ci/task.yaml", "apiVersion: tekton.dev/v1\n"),
            Selection::Tekton
        );
    }
}
