//! Turning wasm bytes into a runnable pack: compile (or load from the cache), check the
//! interface version, link once (`InstancePre`), trial-instantiate and validate `info()`.
//! Every later call gets a fresh `Store` and instance: a trap poisons a store, and no state may
//! leak from one scan into the next.

use std::collections::HashSet;
use std::time::Instant;

use wasmtime::component::Component;
use wasmtime::{Store, Trap};

use crate::pack::bindings::{self, v0_1};
use crate::pack::engine::PackEngine;
use crate::pack::errors::PackError;
use crate::pack::sandbox::{StoreState, truncate};
use crate::pack::types::{PackFinding, PackInfo, PackOutput};
use crate::pack::{PackSource, SourceFile};

/// A compiled, linked and validated pack, ready to scan. Cheap to clone.
#[derive(Clone)]
pub struct PackPre {
    engine: PackEngine,
    pre: v0_1::PackPre<StoreState>,
    info: PackInfo,
    label: String,
}

impl std::fmt::Debug for PackPre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackPre")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// How long loading took, for benchmarks and `--verbose`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadTimings {
    pub compile_ms: f64,
    pub from_cache: bool,
}

impl PackEngine {
    /// Compiles `source` (or loads it from the cache), links it and validates its `info()`.
    pub fn load(&self, source: &PackSource) -> Result<(PackPre, LoadTimings), PackError> {
        let started = Instant::now();
        let (component, from_cache) = self.compile(source)?;
        let compile_ms = started.elapsed().as_secs_f64() * 1000.0;
        check_interface(self, &component)?;
        let instance_pre = self
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| classify_link_error(&e))?;
        let pre = v0_1::PackPre::new(instance_pre).map_err(|e| PackError::InterfaceMismatch {
            found: format!("an incompatible `sluice:pack/rules` ({e:#})"),
            supported: supported_versions(),
        })?;
        let mut pack = PackPre {
            engine: self.clone(),
            pre,
            info: placeholder_info(),
            label: source.label(),
        };
        pack.info = pack.call_info()?;
        validate_info(&pack.info)?;
        pack.label = format!("{} {}", pack.info.id, pack.info.version);
        Ok((
            pack,
            LoadTimings {
                compile_ms,
                from_cache,
            },
        ))
    }

    /// The component for `source`, from the cache when possible.
    pub fn compile(&self, source: &PackSource) -> Result<(Component, bool), PackError> {
        let key = self
            .cache()
            .map(|_| crate::pack::cache::CompileCache::key(source.sha256(), self.config_key()));
        if let (Some(cache), Some(key)) = (self.cache(), key.as_deref()) {
            match cache.get(key, "cwasm") {
                Ok(Some(artifact)) => {
                    #[allow(unsafe_code)]
                    // SAFETY: the artifact was written by this host (`CompileCache::put` below),
                    // is owned by this user, writable by nobody else and matches its checksum;
                    // wasmtime itself rejects artifacts from another version or configuration.
                    let loaded = unsafe { Component::deserialize(self.engine(), &artifact) };
                    match loaded {
                        Ok(component) => return Ok((component, true)),
                        Err(e) => tracing::debug!("recompiling {}: {e:#}", source.label()),
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("not using the compile cache: {e}"),
            }
        }
        let component = Component::new(self.engine(), source.bytes())
            .map_err(|e| PackError::InvalidComponent(first_line(&format!("{e:#}"))))?;
        if let (Some(cache), Some(key)) = (self.cache(), key.as_deref()) {
            match component.serialize() {
                Ok(artifact) => {
                    if let Err(e) = cache.put(key, "cwasm", &artifact) {
                        tracing::warn!("could not write the compile cache: {e}");
                    }
                }
                Err(e) => tracing::warn!("could not serialize {}: {e:#}", source.label()),
            }
        }
        Ok((component, false))
    }
}

impl PackPre {
    pub fn info(&self) -> &PackInfo {
        &self.info
    }

    /// Runs one scan in a fresh store, enforcing every sandbox limit, and checks the output.
    pub fn scan(
        &self,
        files: &[SourceFile],
        options: &[(String, String)],
    ) -> Result<PackOutput, PackError> {
        let request = v0_1::request(files, options);
        let (result, _store) =
            self.call(|pack, store| pack.sluice_pack_rules().call_scan(store, &request))?;
        let (findings, file_errors) = v0_1::result(result.map_err(PackError::Failed)?);
        let requested: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        Ok(self.check_output(findings, file_errors, &requested))
    }

    fn call_info(&self) -> Result<PackInfo, PackError> {
        let (info, _store) = self.call(|pack, store| pack.sluice_pack_rules().call_info(store))?;
        Ok(info.into())
    }

    /// Instantiates in a new store and runs `f`, turning every failure into a typed error.
    fn call<R>(
        &self,
        f: impl FnOnce(&v0_1::Pack, &mut Store<StoreState>) -> wasmtime::Result<R>,
    ) -> Result<(R, Store<StoreState>), PackError> {
        let limits = self.engine.limits();
        let mut store = Store::new(self.engine.engine(), StoreState::new(limits, &self.label));
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.max_output_bytes);
        store.set_epoch_deadline(self.engine.deadline_ticks());
        store.epoch_deadline_trap();
        let outcome = self
            .pre
            .instantiate(&mut store)
            .and_then(|pack| f(&pack, &mut store));
        if store.data().logs_dropped() > 0 {
            tracing::warn!(
                pack = self.label.as_str(),
                "dropped {} log messages over the limit",
                store.data().logs_dropped()
            );
        }
        match outcome {
            Ok(value) => Ok((value, store)),
            Err(error) => Err(classify_trap(&error, &store, self.engine.limits())),
        }
    }

    /// Drops what the host must not trust: findings of undeclared rules, findings about files
    /// the pack was not given, and anything over the output caps. Each drop is reported.
    fn check_output(
        &self,
        findings: Vec<PackFinding>,
        file_errors: Vec<crate::pack::types::PackFileError>,
        requested: &HashSet<&str>,
    ) -> PackOutput {
        let limits = self.engine.limits();
        let declared: HashSet<&str> = self.info.rules.iter().map(|r| r.id.as_str()).collect();
        let mut output = PackOutput::default();
        let mut undeclared = Vec::new();
        let mut foreign = 0usize;
        let mut over_cap = 0usize;
        let total = findings.len();
        for mut finding in findings {
            if !declared.contains(finding.rule_id.as_str()) {
                undeclared.push(finding.rule_id);
            } else if !requested.contains(finding.path.as_str()) {
                foreign += 1;
            } else if output.findings.len() == limits.max_findings {
                over_cap += 1;
            } else {
                cap_finding(&mut finding, limits.max_text_bytes, limits.max_list_items);
                output.findings.push(finding);
            }
        }
        if over_cap > 0 {
            output.output_problems.push(format!(
                "pack returned {total} findings; only the first {} were kept",
                limits.max_findings
            ));
        }
        if !undeclared.is_empty() {
            undeclared.sort();
            undeclared.dedup();
            output.output_problems.push(format!(
                "dropped findings for rules the pack does not declare: {}",
                undeclared.join(", ")
            ));
        }
        if foreign > 0 {
            output.output_problems.push(format!(
                "dropped {foreign} findings about files the pack was not given"
            ));
        }
        let error_total = file_errors.len();
        output.file_errors = file_errors
            .into_iter()
            .filter(|e| requested.contains(e.path.as_str()))
            .take(limits.max_file_errors)
            .map(|mut e| {
                e.message = truncate(&e.message, limits.max_text_bytes);
                e
            })
            .collect();
        if output.file_errors.len() < error_total {
            output.output_problems.push(format!(
                "dropped {} file errors (over the limit or about files the pack was not given)",
                error_total - output.file_errors.len()
            ));
        }
        output
    }
}

fn cap_finding(finding: &mut PackFinding, max_text: usize, max_items: usize) {
    // Positions are 1-based; a pack bug must not produce line 0 in SARIF or the table.
    let span = &mut finding.span;
    span.start_line = span.start_line.max(1);
    span.start_column = span.start_column.max(1);
    span.end_line = span.end_line.max(span.start_line);
    span.end_column = span.end_column.max(1);
    span.end_byte = span.end_byte.max(span.start_byte);
    finding.message = truncate(&finding.message, max_text);
    finding.fingerprint_key = truncate(&finding.fingerprint_key, max_text);
    finding.properties.truncate(max_items);
    for (key, value) in &mut finding.properties {
        *key = truncate(key, 256);
        *value = truncate(value, max_text);
    }
    finding.related.truncate(max_items);
    for location in &mut finding.related {
        location.message = truncate(&location.message, max_text);
    }
    finding.mitigations.truncate(max_items);
    for mitigation in &mut finding.mitigations {
        mitigation.kind = truncate(&mitigation.kind, 256);
        mitigation.description = truncate(&mitigation.description, max_text);
    }
}

/// Finds the `sluice:pack/rules@x.y.z` export and rejects versions this host cannot run.
fn check_interface(engine: &PackEngine, component: &Component) -> Result<(), PackError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine.engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    let Some(found) = exports
        .iter()
        .find(|name| name.starts_with(bindings::RULES_EXPORT_PREFIX))
    else {
        return Err(PackError::NotAPack(if exports.is_empty() {
            "the component exports nothing".to_owned()
        } else {
            format!(
                "the component does not export `sluice:pack/rules` (it exports {})",
                exports.join(", ")
            )
        }));
    };
    let version = &found[bindings::RULES_EXPORT_PREFIX.len()..];
    let supported = bindings::SUPPORTED.iter().any(|major_minor| {
        version
            .strip_prefix(major_minor)
            .is_some_and(|rest| rest.starts_with('.'))
    });
    if supported {
        Ok(())
    } else {
        Err(PackError::InterfaceMismatch {
            found: found.clone(),
            supported: supported_versions(),
        })
    }
}

fn supported_versions() -> String {
    bindings::SUPPORTED
        .iter()
        .map(|v| format!("sluice:pack/rules@{v}.x"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn classify_link_error(error: &wasmtime::Error) -> PackError {
    let text = format!("{error:#}");
    if text.contains("matching implementation was not found") {
        PackError::ForbiddenImport(text)
    } else {
        PackError::InvalidComponent(text)
    }
}

fn classify_trap(
    error: &wasmtime::Error,
    store: &Store<StoreState>,
    limits: &crate::pack::sandbox::SandboxLimits,
) -> PackError {
    if store.data().limiter.memory_exceeded {
        return PackError::OutOfMemory(limits.memory_bytes);
    }
    // wasmtime's error for this is private; its text is the only handle on it.
    if format!("{error:#}").contains("fuel allocated for hostcalls has been exhausted") {
        return PackError::OutputTooLarge(limits.max_output_bytes);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => PackError::Timeout(limits.timeout),
        Some(Trap::StackOverflow) => PackError::StackOverflow,
        trap => PackError::Trap(store.data().panic_message().unwrap_or_else(|| {
            trap.map_or_else(
                || first_line(&error.root_cause().to_string()),
                Trap::to_string,
            )
        })),
    }
}

/// wasmtime's messages can carry a multi-line backtrace or byte dump; the first line says it.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).trim().to_owned()
}

/// Checks what the host relies on: a well-formed id, valid globs, unique non-empty rule ids.
pub fn validate_info(info: &PackInfo) -> Result<(), PackError> {
    let invalid = |msg: String| Err(PackError::InvalidInfo(msg));
    if info.id.is_empty()
        || !info
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return invalid(format!(
            "pack id `{}` must be non-empty lower-case letters, digits and dashes",
            info.id
        ));
    }
    if info.patterns.is_empty() && info.content_patterns.is_empty() {
        return invalid(format!("pack `{}` declares no file patterns", info.id));
    }
    let globs = info
        .patterns
        .iter()
        .chain(info.content_patterns.iter().map(|c| &c.glob));
    for pattern in globs {
        if let Err(e) = globset::Glob::new(pattern) {
            return invalid(format!("pattern `{pattern}` is not a valid glob: {e}"));
        }
    }
    if let Some(empty) = info.content_patterns.iter().find(|c| c.marker.is_empty()) {
        return invalid(format!(
            "content pattern `{}` has an empty marker, which every file contains",
            empty.glob
        ));
    }
    if info.rules.is_empty() {
        return invalid(format!("pack `{}` declares no rules", info.id));
    }
    let mut seen = HashSet::new();
    for rule in &info.rules {
        if rule.id.is_empty() || rule.id.len() > 64 || rule.id.chars().any(char::is_whitespace) {
            return invalid(format!(
                "rule id `{}` is empty, too long or has spaces",
                rule.id
            ));
        }
        if !seen.insert(rule.id.as_str()) {
            return invalid(format!("rule id `{}` is declared twice", rule.id));
        }
        if rule.title.is_empty() {
            return invalid(format!("rule `{}` has no title", rule.id));
        }
    }
    Ok(())
}

fn placeholder_info() -> PackInfo {
    PackInfo {
        id: String::new(),
        name: String::new(),
        version: String::new(),
        platform: String::new(),
        description: String::new(),
        patterns: Vec::new(),
        content_patterns: Vec::new(),
        rules: Vec::new(),
        options: Vec::new(),
    }
}
