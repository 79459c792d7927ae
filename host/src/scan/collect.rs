//! Walking the paths the user gave, honouring `.gitignore`, and reading the files some pack
//! wants. Every file that is skipped for a reason the user should know about (too large, not
//! UTF-8, a symlink leaving the tree, unreadable) becomes an error entry: nothing is dropped
//! silently.

use std::fs;
use std::path::{Component, Path, PathBuf};

use ignore::WalkBuilder;

use crate::report::{ErrorKind, ScanError};
use crate::scan::matcher::{PackMatcher, Wants};

/// How files are collected.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Files larger than this are reported instead of read.
    pub max_file_size: u64,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            max_file_size: 1024 * 1024,
        }
    }
}

/// One file some pack will read.
#[derive(Debug, Clone)]
pub struct CollectedFile {
    /// Path relative to the repository root, `/`-separated: what packs and fingerprints see.
    pub relative: String,
    /// Path as the user should see it (relative to where they ran sluice when possible).
    pub display: String,
    pub content: String,
    /// Indices (into the matcher list) of the packs that read this file.
    pub packs: Vec<usize>,
}

/// The files of one root (a repository or directory the user named).
#[derive(Debug, Clone)]
pub struct CollectedRoot {
    /// The directory paths are relative to (for a fetched repository, `owner/repo@sha`).
    pub root: PathBuf,
    pub files: Vec<CollectedFile>,
    pub origin: RootOrigin,
}

/// Where a root's files came from, which decides where its configuration file is looked for.
#[derive(Debug, Clone, Default)]
pub enum RootOrigin {
    /// The file system, where `.sluice.yml` is looked up under the root.
    #[default]
    Local,
    /// Fetched (from GitHub): the configuration files the repository has came along, by
    /// repository-relative path.
    Fetched {
        config_files: std::collections::BTreeMap<String, String>,
        /// `owner/repo` and the commit: what the packs' results for this root depend on, with
        /// the files themselves (see `ResultCache`).
        repository: String,
        commit: String,
    },
}

/// Everything collected from all paths.
#[derive(Debug, Default)]
pub struct Collected {
    pub roots: Vec<CollectedRoot>,
    pub errors: Vec<ScanError>,
    /// Files looked at (matched or not), to say what was searched when nothing matched.
    pub files_seen: usize,
    /// Repositories fetched through the GitHub API and their commits.
    pub repositories: Vec<crate::report::ScannedRepository>,
}

/// Collects the files under `paths` that any of `matchers` wants.
pub fn collect(paths: &[PathBuf], matchers: &[PackMatcher], options: &CollectOptions) -> Collected {
    let mut collected = Collected::default();
    for path in paths {
        match fs::metadata(path) {
            Err(e) => collected.errors.push(
                ScanError::new(
                    ErrorKind::Io,
                    format!("cannot read {}: {e}", path.display()),
                )
                .path(path.display().to_string()),
            ),
            Ok(meta) if meta.is_dir() => {
                let root = collect_dir(path, matchers, options, &mut collected);
                collected.roots.push(root);
            }
            Ok(_) => {
                let root = collect_single_file(path, matchers, options, &mut collected);
                collected.roots.push(root);
            }
        }
    }
    collected
}

fn collect_dir(
    root: &Path,
    matchers: &[PackMatcher],
    options: &CollectOptions,
    collected: &mut Collected,
) -> CollectedRoot {
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(Ord::cmp)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                collected.errors.push(ScanError::new(
                    ErrorKind::Io,
                    format!("while walking {}: {e}", root.display()),
                ));
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            continue;
        }
        let Some(relative) = relative_path(root, entry.path()) else {
            continue;
        };
        if crate::config::file::is_config_path(&relative) {
            // sluice's own configuration is never pipeline input, even under --platform.
            continue;
        }
        collected.files_seen += 1;
        let wanted = wanted_by(matchers, &relative);
        if wanted.is_empty() {
            continue;
        }
        let display = display_path(entry.path());
        if file_type.is_symlink() && !symlink_stays_inside(entry.path(), &canonical_root) {
            collected.errors.push(
                ScanError::new(
                    ErrorKind::Io,
                    "symbolic link points outside the scanned directory; not followed".to_owned(),
                )
                .path(display),
            );
            continue;
        }
        if let Some(file) = wanted.read(entry.path(), relative, display, options, collected) {
            files.push(file);
        }
    }
    CollectedRoot {
        root: root.to_owned(),
        files,
        origin: RootOrigin::Local,
    }
}

/// A file named on the command line. Its repository root is the nearest enclosing directory
/// under which some pack's patterns match it (so `sluice scan repo/.github/workflows/ci.yml`
/// sees `.github/workflows/ci.yml`), searching up to the enclosing git repository.
fn collect_single_file(
    path: &Path,
    matchers: &[PackMatcher],
    options: &CollectOptions,
    collected: &mut Collected,
) -> CollectedRoot {
    let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    collected.files_seen += 1;
    let display = display_path(path);
    let mut candidates = Vec::new();
    for dir in absolute.ancestors().skip(1) {
        candidates.push(dir);
        if dir.join(".git").exists() {
            break;
        }
    }
    // A pack that wants the file by its path decides the root (`.github/workflows/x.yml` is
    // only a workflow relative to the repository); content patterns such as `**/*.yaml` match
    // at every level, so they only decide when no path pattern does.
    let at = |dir: &&Path| {
        let relative = relative_path(dir, &absolute)?;
        let wanted = wanted_by(matchers, &relative);
        Some((dir.to_path_buf(), relative, wanted))
    };
    let chosen = candidates
        .iter()
        .filter_map(at)
        .find(|(_, _, wanted)| !wanted.by_path.is_empty())
        .or_else(|| {
            candidates
                .iter()
                .filter_map(at)
                .find(|(_, _, wanted)| !wanted.is_empty())
        });
    let unmatched = |collected: &mut Collected, display: String| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        collected.errors.push(
            ScanError::new(
                ErrorKind::Unmatched,
                format!("no rule pack reads `{name}`; name its platform with --platform to scan it anyway"),
            )
            .path(display),
        );
    };
    let Some((root, relative, wanted)) = chosen else {
        unmatched(collected, display);
        return CollectedRoot {
            root: absolute
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .to_owned(),
            files: Vec::new(),
            origin: RootOrigin::Local,
        };
    };
    let only_by_content = wanted.by_path.is_empty();
    let file = wanted.read(path, relative, display.clone(), options, collected);
    if file.is_none() && only_by_content {
        // No path pattern wanted it and its text has no pack's marker.
        unmatched(collected, display);
    }
    CollectedRoot {
        root,
        files: file.into_iter().collect(),
        origin: RootOrigin::Local,
    }
}

/// The packs that want a file: some by its path alone, others only if its text contains a
/// marker.
pub(crate) struct Wanted<'m> {
    pub(crate) by_path: Vec<usize>,
    pub(crate) by_content: Vec<(usize, Vec<&'m str>)>,
}

impl Wanted<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self.by_path.is_empty() && self.by_content.is_empty()
    }

    /// The packs that get a file with this text: those wanting it by path, and those whose
    /// marker the text contains. Sorted.
    pub(crate) fn settle(self, content: &str) -> Vec<usize> {
        let mut packs = self.by_path;
        packs.extend(
            self.by_content
                .into_iter()
                .filter(|(_, markers)| markers.iter().any(|m| content.contains(m)))
                .map(|(pack, _)| pack),
        );
        packs.sort_unstable();
        packs
    }

    /// Reads the file and settles which packs get it. A file only some content pattern could
    /// want is not known to be a pipeline, so failing to read it is not an error of the scan
    /// (a large or binary YAML file elsewhere in the repository is not ours to report).
    fn read(
        self,
        path: &Path,
        relative: String,
        display: String,
        options: &CollectOptions,
        collected: &mut Collected,
    ) -> Option<CollectedFile> {
        let content = if self.by_path.is_empty() {
            let mut ignored = Vec::new();
            let content = read_text(path, &display, options, &mut ignored);
            let shown = display.as_str();
            for error in ignored {
                tracing::debug!("{shown} not read for content patterns: {}", error.message);
            }
            content?
        } else {
            read_text(path, &display, options, &mut collected.errors)?
        };
        let packs = self.settle(&content);
        (!packs.is_empty()).then_some(CollectedFile {
            relative,
            display,
            content,
            packs,
        })
    }
}

pub(crate) fn wanted_by<'m>(matchers: &'m [PackMatcher], relative: &str) -> Wanted<'m> {
    let mut wanted = Wanted {
        by_path: Vec::new(),
        by_content: Vec::new(),
    };
    for (index, matcher) in matchers.iter().enumerate() {
        match matcher.wants(relative) {
            Wants::No => {}
            Wants::Yes => wanted.by_path.push(index),
            Wants::IfContains(markers) => wanted.by_content.push((index, markers)),
        }
    }
    wanted
}

fn read_text(
    path: &Path,
    display: &str,
    options: &CollectOptions,
    errors: &mut Vec<ScanError>,
) -> Option<String> {
    let fail = |kind, message: String| ScanError::new(kind, message).path(display.to_owned());
    match fs::metadata(path) {
        Ok(meta) if meta.len() > options.max_file_size => {
            errors.push(fail(
                ErrorKind::TooLarge,
                format!(
                    "file is {} bytes, over the {}-byte limit (raise it with --max-file-size)",
                    meta.len(),
                    options.max_file_size
                ),
            ));
            return None;
        }
        Ok(_) => {}
        Err(e) => {
            errors.push(fail(ErrorKind::Io, format!("cannot read file: {e}")));
            return None;
        }
    }
    match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..offset]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                errors.push(
                    fail(
                        ErrorKind::Encoding,
                        format!("file is not valid UTF-8 (first invalid byte at offset {offset})"),
                    )
                    .line(u32::try_from(line).unwrap_or(u32::MAX)),
                );
                None
            }
        },
        Err(e) => {
            errors.push(fail(ErrorKind::Io, format!("cannot read file: {e}")));
            None
        }
    }
}

fn symlink_stays_inside(link: &Path, canonical_root: &Path) -> bool {
    fs::canonicalize(link).is_ok_and(|target| target.starts_with(canonical_root))
}

/// `dir/sub/file` relative to `root`, `/`-separated; `None` if `path` is not under `root`.
fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The path as typed, without a leading `./`.
fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_use_slashes() {
        assert_eq!(
            relative_path(Path::new("/r"), Path::new("/r/.github/workflows/ci.yml")).as_deref(),
            Some(".github/workflows/ci.yml")
        );
        assert_eq!(relative_path(Path::new("/r"), Path::new("/x/y")), None);
        assert_eq!(display_path(Path::new("./a/b.yml")), "a/b.yml");
    }

    #[test]
    fn content_patterns_take_files_whose_text_has_the_marker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |path: &str, text: &[u8]| {
            let full = dir.path().join(path);
            fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            fs::write(full, text).expect("write");
        };
        write(
            "deploy/pipeline.yaml",
            b"apiVersion: tekton.dev/v1\nkind: Pipeline\n",
        );
        write("deploy/service.yaml", b"apiVersion: v1\nkind: Service\n");
        write("deploy/binary.yaml", &[0xff, 0xfe, 0x00]);
        write(".tekton/broken.yaml", &[0xff, 0xfe, 0x00]);
        let info = crate::pack::types::PackInfo {
            id: "t".to_owned(),
            name: String::new(),
            version: String::new(),
            platform: String::new(),
            description: String::new(),
            patterns: vec![".tekton/*.yaml".to_owned()],
            content_patterns: vec![crate::pack::types::ContentPattern {
                glob: "**/*.yaml".to_owned(),
                marker: "tekton.dev/".to_owned(),
            }],
            rules: Vec::new(),
            options: Vec::new(),
        };
        let matchers = [PackMatcher::for_patterns(&info).expect("valid globs")];
        let collected = collect(
            &[dir.path().to_owned()],
            &matchers,
            &CollectOptions::default(),
        );
        let files: Vec<&str> = collected.roots[0]
            .files
            .iter()
            .map(|f| f.relative.as_str())
            .collect();
        assert_eq!(files, ["deploy/pipeline.yaml"]);
        assert_eq!(collected.files_seen, 4);
        // A file the pack wants by path is reported when unreadable; one it might have wanted
        // by content is not the pack's business.
        let errors: Vec<&str> = collected
            .errors
            .iter()
            .map(|e| e.path.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].ends_with(".tekton/broken.yaml"), "{errors:?}");
    }
}
