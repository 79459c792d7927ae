//! What one pack call runs inside: the per-store state, resource limits and host services.

use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::pack::bindings::v0_1;

/// Limits applied to every pack call. Defaults suit the CLI and the operator alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Largest linear memory a pack may grow to.
    pub memory_bytes: u64,
    /// Wall-clock budget of one call (instantiate + `info` or `scan`).
    pub timeout: Duration,
    /// Findings kept from one scan call; the rest are dropped and reported.
    pub max_findings: usize,
    /// File errors kept from one scan call.
    pub max_file_errors: usize,
    /// Longest message, fingerprint key or property value kept (bytes); longer ones are cut.
    pub max_text_bytes: usize,
    /// Properties, related locations and mitigations kept per finding.
    pub max_list_items: usize,
    /// Log messages a pack may write per call; the rest are counted and dropped.
    pub max_log_messages: usize,
    /// Bytes a pack may hand the host from one call (its whole result); more is an error
    /// before the host allocates it.
    pub max_output_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            memory_bytes: 256 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_findings: 10_000,
            max_file_errors: 10_000,
            max_text_bytes: 4096,
            max_list_items: 64,
            max_log_messages: 100,
            max_output_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Per-store state: an empty WASI context (nothing inherited), the limiter and the log budget.
pub struct StoreState {
    wasi: WasiCtx,
    /// The pack's stderr, kept (up to a few KiB) only to recover a panic message.
    stderr: MemoryOutputPipe,
    table: ResourceTable,
    pub limiter: SandboxLimiter,
    pack_label: String,
    logs_left: usize,
    logs_dropped: usize,
}

impl std::fmt::Debug for StoreState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreState")
            .field("limiter", &self.limiter)
            .field("pack", &self.pack_label)
            .finish_non_exhaustive()
    }
}

impl StoreState {
    pub fn new(limits: &SandboxLimits, pack_label: &str) -> StoreState {
        // `new()` inherits nothing: no env, args, preopened directories, stdio or network.
        // The clocks and random sources stay; they reveal nothing about the host's files.
        // Stderr goes to a small buffer: a Rust guest prints its panic message there.
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
        StoreState {
            wasi,
            stderr,
            table: ResourceTable::new(),
            limiter: SandboxLimiter::new(limits.memory_bytes),
            pack_label: pack_label.to_owned(),
            logs_left: limits.max_log_messages,
            logs_dropped: 0,
        }
    }

    /// The panic message the pack printed before trapping, if any.
    pub fn panic_message(&self) -> Option<String> {
        let contents = self.stderr.contents();
        let text = String::from_utf8_lossy(&contents);
        // std prints "thread '<name>' panicked at <file>:<line>:<col>:\n<message>\nnote: …".
        let (_, after) = text.split_once("panicked at ")?;
        let (location, rest) = after.split_once('\n').unwrap_or((after, ""));
        let message: Vec<&str> = rest
            .lines()
            .take_while(|line| !line.starts_with("note: "))
            .collect();
        let location = location.trim_end_matches(':');
        Some(truncate(
            &format!("panicked at {location}: {}", message.join(" ").trim()),
            1024,
        ))
    }

    /// Log messages dropped because the pack exceeded its budget.
    pub fn logs_dropped(&self) -> usize {
        self.logs_dropped
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl v0_1::Host for StoreState {
    fn log(&mut self, level: v0_1::LogLevel, message: String) {
        if self.logs_left == 0 {
            self.logs_dropped += 1;
            return;
        }
        self.logs_left -= 1;
        let message = truncate(&message, 1024);
        let pack = self.pack_label.as_str();
        match level {
            v0_1::LogLevel::Debug => tracing::debug!(pack, "{message}"),
            v0_1::LogLevel::Info => tracing::info!(pack, "{message}"),
            v0_1::LogLevel::Warn => tracing::warn!(pack, "{message}"),
        }
    }
}

/// Caps linear memory and table growth, and remembers whether a growth was refused so the error
/// can be reported as "out of memory" rather than a generic crash.
#[derive(Debug)]
pub struct SandboxLimiter {
    memory_bytes: u64,
    pub memory_exceeded: bool,
}

/// Enough for a panic message and its location.
const STDERR_CAPACITY: usize = 4096;

/// Generous for any Rust guest (function tables), small enough to stop table bombs.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl SandboxLimiter {
    fn new(memory_bytes: u64) -> SandboxLimiter {
        SandboxLimiter {
            memory_bytes,
            memory_exceeded: false,
        }
    }
}

impl ResourceLimiter for SandboxLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory_bytes {
            self.memory_exceeded = true;
            // Trapping (instead of returning -1 to the guest) makes the failure unambiguous.
            return Err(wasmtime::Error::msg(format!(
                "memory limit exceeded: pack asked for {desired} bytes"
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        // A component built from one Rust crate has a handful of core instances.
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated]", &text[..end])
}

/// The `types` interface has no functions; its host trait is empty.
impl v0_1::sluice::pack::types::Host for StoreState {}
