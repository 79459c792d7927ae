//! `scan`, `packs` and `rules`.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use sluice::pack::cache::CompileCache;
use sluice::pack::{PackEngineBuilder, PackRegistry, PackSource, SandboxLimits, builtin};
use sluice::report::{self, table::Color};
use sluice::scan::{CollectOptions, ScanOptions};

use crate::cli::args::{ColorArg, Format, PackArgs, ScanArgs, TriageArgs};
use crate::cli::exit;
use sluice::config::ConfigSource;
use sluice::scan::FindingFilter;

pub fn scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let registry = registry(&args.packs)?;
    let options = ScanOptions {
        platform: args.platform.clone(),
        collect: CollectOptions {
            max_file_size: args.max_file_size,
        },
        pack_options: Default::default(),
        config: config_source(&args.triage),
    };
    let filter = finding_filter(&args.triage);
    let known_rules: Vec<&str> = registry
        .packs()
        .iter()
        .filter_map(|pack| pack.usable())
        .flat_map(|info| info.rules.iter().map(|rule| rule.id.as_str()))
        .collect();
    if let Err(error) = filter.check_rules(&known_rules) {
        eprintln!("error: {error}");
        return Ok(exit::ERROR);
    }
    let mut report = match sluice::scan::scan(&registry, &args.paths, &options) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(exit::ERROR);
        }
    };
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

pub fn rules(args: &PackArgs) -> anyhow::Result<u8> {
    let registry = registry(args)?;
    let mut out = String::from("ID        SEVERITY  PACK              TITLE\n");
    let mut failed = false;
    for pack in registry.packs() {
        match &pack.info {
            Ok(info) => {
                for rule in &info.rules {
                    out.push_str(&format!(
                        "{:<9} {:<9} {:<17} {}\n",
                        rule.id, rule.default_severity, info.id, rule.title
                    ));
                }
            }
            Err(error) => {
                failed = true;
                eprintln!("error: {}: {error}", pack.source.label());
            }
        }
    }
    print!("{out}");
    Ok(if failed { exit::ERROR } else { exit::CLEAN })
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
fn registry(args: &PackArgs) -> anyhow::Result<PackRegistry> {
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
