//! `scan`, `packs` and `rules`.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use anyhow::Context;

use sluice::pack::cache::CompileCache;
use sluice::pack::{PackEngineBuilder, PackRegistry, PackSource, SandboxLimits, builtin};
use sluice::report::{self, rule_docs, table::Color};
use sluice::scan::{CollectOptions, ResultCache, ScanOptions};
use sluice::triage::{self, baseline::Baseline, suppress};

use crate::cli::args::{
    ColorArg, ExplainArgs, Format, PackArgs, RulesArgs, RulesFormat, ScanArgs, TriageArgs,
};
use crate::cli::{exit, github};
use sluice::config::ConfigSource;
use sluice::scan::FindingFilter;

pub fn scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let registry = registry(&args.packs)?;
    // A baseline that cannot be used is a usage error before any pack runs.
    let baseline = match &args.baseline {
        Some(path) => match Baseline::load(path) {
            Ok(baseline) => Some(baseline),
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(exit::ERROR);
            }
        },
        None => None,
    };
    let options = ScanOptions {
        platform: args.platform.clone(),
        collect: CollectOptions {
            max_file_size: args.max_file_size,
        },
        pack_options: Default::default(),
        config: config_source(&args.triage),
        // Only fetched commits are cached; a local scan has no use for it.
        results: args
            .github
            .has_targets()
            .then(|| ResultCache::new(github::cache_dir(&args.packs).as_deref())),
    };
    let filter = finding_filter(&args.triage);
    // Every rule a loaded pack declares: what `--rule`, `--skip-rule` and ignore comments may name.
    let known_rules: BTreeSet<String> = registry
        .packs()
        .iter()
        .filter_map(|pack| pack.usable())
        .flat_map(|info| info.rules.iter().map(|rule| rule.id.clone()))
        .collect();
    let known_ids: Vec<&str> = known_rules.iter().map(String::as_str).collect();
    if let Err(error) = filter.check_rules(&known_ids) {
        eprintln!("error: {error}");
        return Ok(exit::ERROR);
    }
    let paths = if args.paths.is_empty() && !args.github.has_targets() {
        vec![std::path::PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let remote = match github::Remote::new(&args.github, &args.packs) {
        Ok(remote) => remote,
        Err(error) => {
            eprintln!("error: {error:#}");
            return Ok(exit::ERROR);
        }
    };
    let scanned = sluice::scan::scan_with(
        &registry,
        &paths,
        remote.as_ref().map(github::Remote::source),
        &options,
    );
    if let Some(remote) = &remote {
        remote.log_stats();
    }
    if let Some(results) = &options.results {
        tracing::info!(
            "result cache: {} pack run{} answered from the cache, {} run",
            results.hits(),
            if results.hits() == 1 { "" } else { "s" },
            results.misses()
        );
    }
    let mut report = match scanned {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(exit::ERROR);
        }
    };
    // Triage, in the documented order: inline suppressions, then the baseline, then filters.
    if !args.no_ignores {
        for warning in suppress::apply(&mut report, &known_rules) {
            eprintln!("warning: {warning}");
        }
    }
    report.show_suppressed = args.show_suppressed;
    if let Some(path) = &args.write_baseline {
        triage::baseline::write(path, &report.findings)?;
    }
    if let Some(baseline) = &baseline {
        baseline.apply(&mut report);
    }
    if let Some(min) = args.min_severity {
        report.retain_min_severity(min.into());
    }
    filter.apply(&mut report);
    let color = match args.color {
        ColorArg::Always => Color::Always,
        ColorArg::Never => Color::Never,
        ColorArg::Auto => {
            if args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
            {
                Color::Always
            } else {
                Color::Never
            }
        }
    };
    let rendered = match args.format {
        Format::Table => report::table::render(&report, color),
        Format::Json => report::json::render(&report),
        Format::Sarif => report::sarif::render(&report),
        Format::Github => report::github::render(&report),
        Format::Markdown => report::markdown::render(&report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = stdout.write_all(rendered.as_bytes());
            let _ = stdout.flush();
        }
    }
    if !report.errors.is_empty() {
        return Ok(exit::ERROR);
    }
    let failing = args
        .fail_on
        .threshold()
        .is_some_and(|threshold| report.findings.iter().any(|f| f.severity >= threshold));
    Ok(if failing { exit::FINDINGS } else { exit::CLEAN })
}

pub fn packs(args: &PackArgs) -> anyhow::Result<u8> {
    let registry = registry(args)?;
    let mut out = String::from("ID                VERSION   PLATFORM          RULES  SOURCE\n");
    let mut failed = false;
    for pack in registry.packs() {
        match &pack.info {
            Ok(info) => out.push_str(&format!(
                "{:<17} {:<9} {:<17} {:>5}  {}\n",
                info.id,
                info.version,
                info.platform,
                info.rules.len(),
                pack.source.origin_text()
            )),
            Err(error) => {
                failed = true;
                eprintln!("error: {}: {error}", pack.source.label());
            }
        }
    }
    print!("{out}");
    Ok(if failed { exit::ERROR } else { exit::CLEAN })
}

pub fn rules(args: &RulesArgs) -> anyhow::Result<u8> {
    if args.output_dir.is_some() && args.format != RulesFormat::Markdown {
        anyhow::bail!("--output-dir writes documentation pages: use it with --format markdown");
    }
    let registry = registry(&args.packs)?;
    let mut out = String::new();
    if args.format == RulesFormat::Table {
        out.push_str("ID        SEVERITY  PACK              TITLE\n");
    } else if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut failed = false;
    for pack in registry.packs() {
        let info = match &pack.info {
            Ok(info) => info,
            Err(error) => {
                failed = true;
                eprintln!("error: {}: {error}", pack.source.label());
                continue;
            }
        };
        for rule in &info.rules {
            match (args.format, &args.output_dir) {
                (RulesFormat::Table, _) => out.push_str(&format!(
                    "{:<9} {:<9} {:<17} {}\n",
                    rule.id, rule.default_severity, info.id, rule.title
                )),
                (RulesFormat::Markdown, None) => {
                    out.push_str(&rule_docs::page(&info.id, &info.platform, rule));
                    out.push('\n');
                }
                (RulesFormat::Markdown, Some(dir)) => {
                    let path = dir.join(format!("{}.md", rule.id));
                    std::fs::write(&path, rule_docs::page(&info.id, &info.platform, rule))
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
            }
        }
    }
    print!("{out}");
    Ok(if failed { exit::ERROR } else { exit::CLEAN })
}

pub fn explain(args: &ExplainArgs) -> anyhow::Result<u8> {
    let registry = registry(&args.packs)?;
    let wanted = args.rule.to_ascii_uppercase();
    let mut known = Vec::new();
    for info in registry.packs().iter().filter_map(|p| p.info.as_ref().ok()) {
        for rule in &info.rules {
            if rule.id.to_ascii_uppercase() == wanted {
                print!("{}", rule_docs::page(&info.id, &info.platform, rule));
                return Ok(exit::CLEAN);
            }
            known.push(rule.id.as_str());
        }
    }
    let prefix = wanted.split('-').next().unwrap_or_default();
    let similar: Vec<&str> = known
        .iter()
        .copied()
        .filter(|id| id.starts_with(prefix))
        .collect();
    anyhow::bail!(
        "no loaded pack declares rule `{}`{}",
        args.rule,
        if similar.is_empty() {
            " (`sluice rules` lists them)".to_owned()
        } else {
            format!("; rules of that family: {}", similar.join(", "))
        }
    )
}

fn config_source(args: &TriageArgs) -> ConfigSource {
    match (&args.config, args.no_config) {
        (_, true) => ConfigSource::Disabled,
        (Some(path), false) => ConfigSource::File(path.clone()),
        (None, false) => ConfigSource::Discover,
    }
}

fn finding_filter(args: &TriageArgs) -> FindingFilter {
    FindingFilter {
        min_confidence: args.min_confidence.map(Into::into),
        only_rules: args.rules.clone(),
        skip_rules: args.skip_rules.clone(),
    }
}

/// The engine and every pack: built-ins first, then `--pack` files in the order given.
pub fn registry(args: &PackArgs) -> anyhow::Result<PackRegistry> {
    let cache = if args.no_cache {
        None
    } else {
        let dir = args.cache_dir.clone().or_else(CompileCache::default_dir);
        match dir.map(CompileCache::open) {
            Some(Ok(cache)) => Some(cache),
            Some(Err(e)) => {
                tracing::warn!("compiling without a cache: {e}");
                None
            }
            None => None,
        }
    };
    let limits = SandboxLimits {
        memory_bytes: args.pack_memory,
        timeout: args.pack_timeout,
        ..SandboxLimits::default()
    };
    let engine = PackEngineBuilder::new()
        .limits(limits)
        .cache(cache)
        .build()
        .context("cannot start the WebAssembly engine")?;
    let mut sources = builtin::sources();
    for path in &args.packs {
        sources.push(PackSource::from_file(path)?);
    }
    Ok(PackRegistry::new(engine, sources))
}
