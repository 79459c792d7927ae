//! Running the packs over collected files and assembling the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigError, ConfigLoader, ConfigSource, apply::merge_options};
use crate::pack::types::{FileErrorKind, PackInfo};
use crate::pack::{PackRegistry, SourceFile};
use crate::report::rule_docs;
use crate::report::{ErrorKind, Finding, PackSummary, Report, ReportRule, ScanError};
use crate::scan::collect::{CollectOptions, Collected, CollectedRoot, RootOrigin, collect};
use crate::scan::matcher::PackMatcher;
use crate::scan::result_cache::{ResultCache, ResultKey};

/// What to scan and how.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// `--platform`: only that platform's pack runs, on every pipeline-like file.
    pub platform: Option<String>,
    pub collect: CollectOptions,
    /// Options per pack id, handed to the pack.
    pub pack_options: BTreeMap<String, Vec<(String, String)>>,
    /// Where `.sluice.yml` comes from; its options fill in names `pack_options` leaves unset.
    pub config: ConfigSource,
    /// Pack outputs for fetched commits, reused instead of running the pack again. `None`:
    /// every pack runs.
    pub results: Option<ResultCache>,
}

/// Why a scan could not start at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanSetupError {
    #[error("no rule pack handles platform `{platform}` (available: {available})")]
    UnknownPlatform { platform: String, available: String },
    #[error("{0}")]
    NothingToScan(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A repository could not be fetched (`--github`); never reported as "no findings".
    #[error("{0}")]
    Remote(String),
}

/// Roots that do not come from the file system (GitHub repositories). `fetch` gets the packs'
/// matchers, so it fetches only what some pack reads, and returns the collected roots.
pub struct RemoteSource<'f> {
    /// What the user named (`owner/repo@ref`), for messages.
    pub names: Vec<String>,
    #[allow(clippy::type_complexity)]
    pub fetch: Box<dyn FnMut(&[PackMatcher], &CollectOptions) -> Result<Collected, String> + 'f>,
}

impl std::fmt::Debug for RemoteSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSource")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// A pack chosen for this run, with its matcher.
struct Selected<'r> {
    index: usize,
    info: &'r PackInfo,
    matcher: PackMatcher,
}

/// Scans `paths` with the usable packs of `registry`.
pub fn scan(
    registry: &PackRegistry,
    paths: &[PathBuf],
    options: &ScanOptions,
) -> Result<Report, ScanSetupError> {
    scan_with(registry, paths, None, options)
}

/// Scans `paths` and the roots of `remote` with the usable packs of `registry`.
pub fn scan_with(
    registry: &PackRegistry,
    paths: &[PathBuf],
    remote: Option<RemoteSource<'_>>,
    options: &ScanOptions,
) -> Result<Report, ScanSetupError> {
    let mut report = Report::default();
    for pack in registry.packs() {
        if let Err(error) = &pack.info {
            report.errors.push(
                ScanError::new(ErrorKind::Pack, error.to_string())
                    .pack(pack.source.label())
                    .reason(error.kind()),
            );
        }
    }
    let loaded_packs: Vec<&PackInfo> = registry.packs().iter().filter_map(|p| p.usable()).collect();
    let mut loader = ConfigLoader::new(options.config.clone(), loaded_packs)?;
    let selected = select_packs(registry, options, &mut report)?;
    let matchers: Vec<PackMatcher> = selected.iter().map(|s| s.matcher.clone()).collect();
    let mut collected = collect(paths, &matchers, &options.collect);
    let mut searched: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    if let Some(mut remote) = remote {
        let fetched =
            (remote.fetch)(&matchers, &options.collect).map_err(ScanSetupError::Remote)?;
        collected.roots.extend(fetched.roots);
        collected.errors.extend(fetched.errors);
        collected.files_seen += fetched.files_seen;
        report.repositories = fetched.repositories;
        searched.append(&mut remote.names);
    }
    report.errors.extend(collected.errors);
    let mut configs: Configs = BTreeMap::new();
    for root in &collected.roots {
        let config = match &root.origin {
            RootOrigin::Local => loader.for_root(&root.root)?,
            RootOrigin::Fetched { config_files, .. } => {
                loader.for_fetched(&root.root, config_files)?
            }
        };
        configs.insert(root.root.clone(), config);
    }

    let scanned: usize = collected.roots.iter().map(|r| r.files.len()).sum();
    let unreadable = report.errors.iter().any(|e| e.path.is_some());
    if scanned == 0 && !unreadable {
        return Err(ScanSetupError::NothingToScan(nothing_to_scan(
            &searched,
            &selected,
            collected.files_seen,
        )));
    }
    report.files_scanned = scanned;

    let jobs: Vec<(&CollectedRoot, usize)> = collected
        .roots
        .iter()
        .flat_map(|root| (0..selected.len()).map(move |pack| (root, pack)))
        .filter(|(root, pack)| root.files.iter().any(|f| f.packs.contains(pack)))
        .collect();
    let results = run_jobs(registry, &selected, &jobs, options, &configs);

    let mut files_per_pack = vec![0usize; selected.len()];
    for ((root, pack), (result, cached)) in jobs.iter().zip(results) {
        report.cached_results += usize::from(cached);
        let chosen = &selected[*pack];
        files_per_pack[*pack] += root.files.iter().filter(|f| f.packs.contains(pack)).count();
        let before = report.findings.len();
        absorb(&mut report, root, chosen, result);
        if let Some(config) = config_of(&configs, &root.root) {
            let mut fresh = report.findings.split_off(before);
            report.config_ignored += config.apply(&mut fresh);
            report.findings.append(&mut fresh);
        }
    }
    for root in &collected.roots {
        for file in &root.files {
            report
                .sources
                .insert(file.display.clone(), Arc::from(file.content.as_str()));
        }
    }
    for (chosen, files) in selected.iter().zip(files_per_pack) {
        let source = &registry.packs()[chosen.index].source;
        report.packs.push(PackSummary {
            id: chosen.info.id.clone(),
            version: chosen.info.version.clone(),
            source: source.origin_text(),
            files,
        });
        report
            .rules
            .extend(chosen.info.rules.iter().map(|rule| ReportRule {
                pack: chosen.info.id.clone(),
                platform: chosen.info.platform.clone(),
                info: rule.clone(),
                help_uri: if rule.help_uri.is_empty() && source.is_builtin() {
                    format!("{}/{}.md", rule_docs::BUILTIN_DOCS_URL, rule.id)
                } else {
                    rule.help_uri.clone()
                },
            }));
    }
    report.sort();
    Ok(report)
}

fn select_packs<'r>(
    registry: &'r PackRegistry,
    options: &ScanOptions,
    report: &mut Report,
) -> Result<Vec<Selected<'r>>, ScanSetupError> {
    let usable = registry
        .packs()
        .iter()
        .enumerate()
        .filter_map(|(index, pack)| pack.usable().map(|info| (index, info)));
    if let Some(platform) = &options.platform {
        let chosen: Vec<Selected<'r>> = usable
            .filter(|(_, info)| &info.platform == platform || &info.id == platform)
            .map(|(index, info)| Selected {
                index,
                info,
                matcher: PackMatcher::AnyPipelineFile,
            })
            .collect();
        if chosen.is_empty() {
            let mut available: Vec<&str> = registry
                .packs()
                .iter()
                .filter_map(|p| p.usable().map(|i| i.platform.as_str()))
                .collect();
            available.sort_unstable();
            available.dedup();
            return Err(ScanSetupError::UnknownPlatform {
                platform: platform.clone(),
                available: available.join(", "),
            });
        }
        return Ok(chosen);
    }
    let mut chosen = Vec::new();
    for (index, info) in usable {
        match PackMatcher::for_patterns(info) {
            Ok(matcher) => chosen.push(Selected {
                index,
                info,
                matcher,
            }),
            Err(e) => report.errors.push(
                ScanError::new(ErrorKind::Pack, format!("invalid file pattern: {e}"))
                    .pack(info.id.clone())
                    .reason("invalid-info"),
            ),
        }
    }
    Ok(chosen)
}

/// The configuration of each scan root (`None`: the root has none).
type Configs = BTreeMap<PathBuf, Option<Arc<Config>>>;

fn config_of<'c>(configs: &'c Configs, root: &Path) -> Option<&'c Config> {
    configs.get(root).and_then(Option::as_deref)
}

/// A job's output, or the pack error's (kind, message).
type JobResult = Result<crate::pack::types::PackOutput, (&'static str, String)>;

fn job_error(error: &crate::pack::PackError) -> (&'static str, String) {
    (error.kind(), error.to_string())
}

/// Runs every (root, pack) job, spreading them over the machine's cores; a job whose output
/// the result cache holds is answered from it (the flag says so) and runs no pack. Each call
/// gets its own store, so jobs share nothing but the compiled code.
fn run_jobs(
    registry: &PackRegistry,
    selected: &[Selected<'_>],
    jobs: &[(&CollectedRoot, usize)],
    options: &ScanOptions,
    configs: &Configs,
) -> Vec<(JobResult, bool)> {
    let run_one = |(root, pack): &(&CollectedRoot, usize)| -> (JobResult, bool) {
        let chosen = &selected[*pack];
        let files: Vec<SourceFile> = root
            .files
            .iter()
            .filter(|f| f.packs.contains(pack))
            .map(|f| SourceFile {
                path: f.relative.clone(),
                content: f.content.clone(),
            })
            .collect();
        let command_line = options
            .pack_options
            .get(&chosen.info.id)
            .map_or(&[][..], Vec::as_slice);
        let pack_options = merge_options(
            command_line,
            config_of(configs, &root.root),
            &chosen.info.id,
        );
        let cache = match (&options.results, &root.origin) {
            (
                Some(cache),
                RootOrigin::Fetched {
                    repository, commit, ..
                },
            ) => Some((
                cache,
                ResultKey {
                    repository,
                    commit,
                    pack_sha256: registry.packs()[chosen.index].source.sha256(),
                    pack_id: &chosen.info.id,
                    pack_version: &chosen.info.version,
                    options: &pack_options,
                    files: &files,
                },
            )),
            _ => None,
        };
        if let Some((cache, key)) = &cache
            && let Some(output) = cache.get(key)
        {
            return (Ok(output), true);
        }
        let output = registry
            .load(chosen.index)
            .map_err(job_error)
            .and_then(|loaded| {
                loaded
                    .0
                    .scan(&files, &pack_options)
                    .map_err(|e| job_error(&e))
            });
        if let (Some((cache, key)), Ok(output)) = (&cache, &output) {
            cache.put(key, output);
        }
        (output, false)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(jobs.len().max(1));
    if workers <= 1 {
        return jobs.iter().map(run_one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<(JobResult, bool)>> = (0..jobs.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = run_one(job);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| (Err(("host", "a scan worker stopped".to_owned())), false)))
        .collect()
}

/// Adds one job's output to the report.
fn absorb(report: &mut Report, root: &CollectedRoot, chosen: &Selected<'_>, result: JobResult) {
    let display_of = |relative: &str| {
        root.files
            .iter()
            .find(|f| f.relative == relative)
            .map_or_else(|| relative.to_owned(), |f| f.display.clone())
    };
    let pack_id = chosen.info.id.as_str();
    match result {
        Err((kind, message)) => report.errors.push(
            ScanError::new(
                ErrorKind::Pack,
                format!(
                    "{message}; its findings for {} are missing",
                    root.root.display()
                ),
            )
            .pack(pack_id.to_owned())
            .reason(kind),
        ),
        Ok(output) => {
            for problem in output.output_problems {
                report.errors.push(
                    ScanError::new(ErrorKind::Pack, problem)
                        .pack(pack_id.to_owned())
                        .reason("invalid-output"),
                );
            }
            for error in output.file_errors {
                let kind = match error.kind {
                    FileErrorKind::Parse => ErrorKind::Parse,
                    FileErrorKind::Unsupported => ErrorKind::Unsupported,
                    FileErrorKind::Limit => ErrorKind::Limit,
                };
                let mut entry = ScanError::new(kind, error.message)
                    .path(display_of(&error.path))
                    .pack(pack_id.to_owned());
                if let Some(span) = error.span {
                    entry = entry.line(span.start_line).column(span.start_column);
                }
                report.errors.push(entry);
            }
            for finding in output.findings {
                let Some(rule) = chosen.info.rule(&finding.rule_id) else {
                    continue;
                };
                report
                    .findings
                    .push(Finding::from_pack(finding, pack_id, rule, display_of));
            }
        }
    }
}

fn nothing_to_scan(paths: &[String], selected: &[Selected<'_>], files_seen: usize) -> String {
    const SHOWN: usize = 5;
    let mut searched: Vec<String> = paths.iter().take(SHOWN).cloned().collect();
    if paths.len() > SHOWN {
        searched.push(format!("and {} more paths", paths.len() - SHOWN));
    }
    let looked_for: Vec<String> = selected
        .iter()
        .map(|s| format!("{}: {}", s.info.id, s.matcher.describe(s.info)))
        .collect();
    format!(
        "nothing to scan: {files_seen} files under {} and none is read by a rule pack\n  looked for:\n    {}",
        searched.join(", "),
        if looked_for.is_empty() {
            "(no usable rule pack)".to_owned()
        } else {
            looked_for.join("\n    ")
        }
    )
}
