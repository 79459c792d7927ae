//! Which files a pack reads: its own glob patterns, or with `--platform` every YAML/Groovy
//! file for the pack of that platform.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use crate::pack::types::PackInfo;

/// Decides whether a repository-relative path is input for one pack.
#[derive(Debug, Clone)]
pub enum PackMatcher {
    /// The pack's declared patterns.
    Patterns {
        paths: GlobSet,
        /// Globs whose files are input only when their text contains the marker.
        by_content: Vec<(GlobMatcher, String)>,
    },
    /// `--platform`: any pipeline-like file, whatever its name.
    AnyPipelineFile,
}

/// Whether a pack wants a file, judged from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wants<'m> {
    No,
    Yes,
    /// Only if the text contains one of these markers.
    IfContains(Vec<&'m str>),
}

impl PackMatcher {
    /// The matcher for a pack's declared patterns. `*` does not cross `/`; `**` does.
    pub fn for_patterns(info: &PackInfo) -> Result<PackMatcher, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &info.patterns {
            builder.add(glob(pattern)?);
        }
        let by_content = info
            .content_patterns
            .iter()
            .map(|c| Ok((glob(&c.glob)?.compile_matcher(), c.marker.clone())))
            .collect::<Result<_, globset::Error>>()?;
        Ok(PackMatcher::Patterns {
            paths: builder.build()?,
            by_content,
        })
    }

    pub fn wants(&self, relative_path: &str) -> Wants<'_> {
        match self {
            PackMatcher::Patterns { paths, by_content } => {
                if paths.is_match(relative_path) {
                    return Wants::Yes;
                }
                let markers: Vec<&str> = by_content
                    .iter()
                    .filter(|(glob, _)| glob.is_match(relative_path))
                    .map(|(_, marker)| marker.as_str())
                    .collect();
                if markers.is_empty() {
                    Wants::No
                } else {
                    Wants::IfContains(markers)
                }
            }
            PackMatcher::AnyPipelineFile if is_pipeline_like(relative_path) => Wants::Yes,
            PackMatcher::AnyPipelineFile => Wants::No,
        }
    }

    /// What the pack looks for, for the "nothing to scan" message.
    pub fn describe(&self, info: &PackInfo) -> String {
        match self {
            PackMatcher::AnyPipelineFile => "any .yml/.yaml/.groovy/Jenkinsfile".to_owned(),
            PackMatcher::Patterns { .. } => info
                .patterns
                .iter()
                .cloned()
                .chain(
                    info.content_patterns
                        .iter()
                        .map(|c| format!("{} containing `{}`", c.glob, c.marker)),
                )
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// YAML files, Groovy files and Jenkinsfiles.
pub fn is_pipeline_like(relative_path: &str) -> bool {
    let name = relative_path.rsplit('/').next().unwrap_or(relative_path);
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yml")
        || lower.ends_with(".yaml")
        || lower.ends_with(".groovy")
        // `Jenkinsfile`, `Jenkinsfile.release`, `Jenkinsfile_k8s`, `deploy.jenkinsfile`,
        // `ci__Jenkinsfile.ios`: Jenkins has no fixed file name.
        || lower.contains("jenkinsfile")
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
            content_patterns: vec![crate::pack::types::ContentPattern {
                glob: "**/*.yaml".to_owned(),
                marker: "tekton.dev/".to_owned(),
            }],
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
        assert_eq!(m.wants(".github/workflows/ci.yml"), Wants::Yes);
        assert_eq!(m.wants(".github/workflows/release.yaml"), Wants::Yes);
        assert_eq!(m.wants(".github/workflows/sub/ci.yml"), Wants::No);
        assert_eq!(m.wants(".github/dependabot.yml"), Wants::No);
        assert_eq!(m.wants("action.yml"), Wants::Yes);
        assert_eq!(m.wants(".github/actions/setup/action.yaml"), Wants::Yes);
        assert_eq!(m.wants("myaction.yml"), Wants::No);
        assert_eq!(
            m.wants("deploy/pipeline.yaml"),
            Wants::IfContains(vec!["tekton.dev/"])
        );
    }

    #[test]
    fn pipeline_like_files() {
        assert!(is_pipeline_like("a/b/c.YML"));
        assert!(is_pipeline_like("Jenkinsfile"));
        assert!(is_pipeline_like("ci/Jenkinsfile.release"));
        assert!(is_pipeline_like("Jenkinsfile_k8s"));
        assert!(is_pipeline_like("ci/deploy.jenkinsfile"));
        assert!(is_pipeline_like("vars/deploy.groovy"));
        assert!(!is_pipeline_like("README.md"));
    }
}
