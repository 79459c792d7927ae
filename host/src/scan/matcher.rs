//! Which files a pack reads: its own glob patterns, or with `--platform` every YAML/Groovy
//! file for the pack of that platform.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::pack::types::PackInfo;

/// Decides whether a repository-relative path is input for one pack.
#[derive(Debug, Clone)]
pub enum PackMatcher {
    /// The pack's declared patterns.
    Patterns(GlobSet),
    /// `--platform`: any pipeline-like file, whatever its name.
    AnyPipelineFile,
}

impl PackMatcher {
    /// The matcher for a pack's declared patterns. `*` does not cross `/`; `**` does.
    pub fn for_patterns(info: &PackInfo) -> Result<PackMatcher, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &info.patterns {
            builder.add(GlobBuilder::new(pattern).literal_separator(true).build()?);
        }
        Ok(PackMatcher::Patterns(builder.build()?))
    }

    pub fn matches(&self, relative_path: &str) -> bool {
        match self {
            PackMatcher::Patterns(set) => set.is_match(relative_path),
            PackMatcher::AnyPipelineFile => is_pipeline_like(relative_path),
        }
    }
}

/// YAML files, Groovy files and Jenkinsfiles.
pub fn is_pipeline_like(relative_path: &str) -> bool {
    let name = relative_path.rsplit('/').next().unwrap_or(relative_path);
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yml")
        || lower.ends_with(".yaml")
        || lower.ends_with(".groovy")
        || lower == "jenkinsfile"
        || lower.starts_with("jenkinsfile.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(patterns: &[&str]) -> PackInfo {
        PackInfo {
            id: "p".to_owned(),
            name: String::new(),
            version: String::new(),
            platform: String::new(),
            description: String::new(),
            patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
            rules: Vec::new(),
            options: Vec::new(),
        }
    }

    #[test]
    fn github_patterns() {
        let m = PackMatcher::for_patterns(&info(&[
            ".github/workflows/*.{yml,yaml}",
            "**/action.{yml,yaml}",
        ]))
        .expect("valid globs");
        assert!(m.matches(".github/workflows/ci.yml"));
        assert!(m.matches(".github/workflows/release.yaml"));
        assert!(!m.matches(".github/workflows/sub/ci.yml"));
        assert!(!m.matches(".github/dependabot.yml"));
        assert!(m.matches("action.yml"));
        assert!(m.matches(".github/actions/setup/action.yaml"));
        assert!(!m.matches("myaction.yml"));
    }

    #[test]
    fn pipeline_like_files() {
        assert!(is_pipeline_like("a/b/c.YML"));
        assert!(is_pipeline_like("Jenkinsfile"));
        assert!(is_pipeline_like("ci/Jenkinsfile.release"));
        assert!(is_pipeline_like("vars/deploy.groovy"));
        assert!(!is_pipeline_like("README.md"));
    }
}
