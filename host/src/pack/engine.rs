//! One wasmtime `Engine` per process, configured for sandboxed packs, with the one linker every
//! pack is instantiated against and the epoch ticker that enforces time limits.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, OptLevel};

use crate::pack::bindings::v0_1;
use crate::pack::cache::CompileCache;
use crate::pack::errors::PackError;
use crate::pack::sandbox::{SandboxLimits, StoreState};

/// How often the epoch advances. A call's deadline is rounded up to whole ticks, so a runaway
/// pack is stopped at most one tick after its time limit.
pub const EPOCH_TICK: Duration = Duration::from_millis(20);

/// Builds a [`PackEngine`].
#[derive(Debug, Default)]
pub struct PackEngineBuilder {
    limits: SandboxLimits,
    cache: Option<CompileCache>,
}

impl PackEngineBuilder {
    pub fn new() -> PackEngineBuilder {
        PackEngineBuilder::default()
    }

    /// Resource limits for every pack call.
    #[must_use]
    pub fn limits(mut self, limits: SandboxLimits) -> PackEngineBuilder {
        self.limits = limits;
        self
    }

    /// Where compiled packs are cached; `None` compiles every time.
    #[must_use]
    pub fn cache(mut self, cache: Option<CompileCache>) -> PackEngineBuilder {
        self.cache = cache;
        self
    }

    pub fn build(self) -> Result<PackEngine, PackError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        config.cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| PackError::Host(format!("{e:#}")))?;

        let mut linker = Linker::<StoreState>::new(&engine);
        link_wasi(&mut linker).map_err(|e| PackError::Host(format!("{e:#}")))?;
        v0_1::Pack::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| PackError::Host(format!("{e:#}")))?;

        let config_key = config_fingerprint(&engine);
        let ticker = EpochTicker::start(engine.clone());
        Ok(PackEngine {
            inner: Arc::new(Inner {
                engine,
                linker,
                limits: self.limits,
                cache: self.cache,
                config_key,
                _ticker: ticker,
            }),
        })
    }
}

/// The shared runtime for all packs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PackEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<StoreState>,
    limits: SandboxLimits,
    cache: Option<CompileCache>,
    config_key: String,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackEngine")
            .field("limits", &self.limits)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl PackEngine {
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn linker(&self) -> &Linker<StoreState> {
        &self.inner.linker
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.inner.limits
    }

    pub fn cache(&self) -> Option<&CompileCache> {
        self.inner.cache.as_ref()
    }

    /// Identifies everything a compiled artifact depends on besides the wasm itself: the
    /// wasmtime version, the engine configuration and the host version.
    pub fn config_key(&self) -> &str {
        &self.inner.config_key
    }

    /// Epoch ticks that make up the per-call time limit.
    pub fn deadline_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_millis().max(1);
        let ticks = self.inner.limits.timeout.as_millis().div_ceil(tick);
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

/// Links the WASI 0.2 interfaces a Rust `std` guest imports, and nothing else: no sockets, no
/// name lookup, no HTTP. Filesystem is linked with zero preopened directories, so a pack that
/// tries to open a file gets "not found", never a host file.
fn link_wasi(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::WasiView;
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings::sync;
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

    let l = linker;
    wasmtime_wasi::p2::bindings::io::error::add_to_linker::<StoreState, HasTable>(l, |s| {
        s.ctx().table
    })?;
    sync::io::poll::add_to_linker::<StoreState, HasTable>(l, |s| s.ctx().table)?;
    sync::io::streams::add_to_linker::<StoreState, HasTable>(l, |s| s.ctx().table)?;
    clocks::wall_clock::add_to_linker::<StoreState, WasiClocks>(l, StoreState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<StoreState, WasiClocks>(l, StoreState::clocks)?;
    filesystem::preopens::add_to_linker::<StoreState, WasiFilesystem>(l, StoreState::filesystem)?;
    sync::filesystem::types::add_to_linker::<StoreState, WasiFilesystem>(
        l,
        StoreState::filesystem,
    )?;
    random::random::add_to_linker::<StoreState, WasiRandom>(l, |s| s.random())?;
    random::insecure::add_to_linker::<StoreState, WasiRandom>(l, |s| s.random())?;
    random::insecure_seed::add_to_linker::<StoreState, WasiRandom>(l, |s| s.random())?;
    cli::exit::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::environment::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::stdin::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::stdout::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::stderr::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::terminal_input::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::terminal_output::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::terminal_stdin::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::terminal_stdout::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    cli::terminal_stderr::add_to_linker::<StoreState, WasiCli>(l, StoreState::cli)?;
    Ok(())
}

/// Gives WASI's I/O interfaces the store's resource table.
struct HasTable;

impl wasmtime::component::HasData for HasTable {
    type Data<'a> = &'a mut wasmtime_wasi::ResourceTable;
}

fn config_fingerprint(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    hex::encode(hasher.0.finalize())
}

/// A `std::hash::Hasher` that feeds SHA-256, so the engine's compatibility hash becomes a
/// stable cache key (std's `DefaultHasher` may change between Rust releases).
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// One thread per engine that advances the epoch; stopped when the engine is dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("sluice-epoch".to_owned())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        EpochTicker { stop, handle }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
