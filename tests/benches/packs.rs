//! `cargo bench -p sluice --bench packs`: what the sandbox costs.
//!
//! Measures, in one run: compiling the built-in GitHub Actions component, loading it from the
//! compile cache, one instantiate + scan call on a typical workflow, and throughput over the
//! shared corpus (`../shared/corpus/github-actions`) — and the same pack code called natively
//! (linked as an rlib), so the sandbox's overhead is a measured ratio, not a guess.
//!
//! Then, with `SLUICE_BENCH_ZIZMOR` pointing at a zizmor binary
//! (`tests/benches/install-zizmor.sh` installs one from PyPI and prints its path), the whole
//! `sluice` binary and `zizmor --offline` scan the same corpus laid out as repositories
//! (`<repo>/.github/workflows/*.yml`), and wall time and CPU time per file are compared.
//!
//! Set `SLUICE_BENCH_QUICK=1` for a fast smoke run (fewer rounds).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sluice::pack::cache::CompileCache;
use sluice::pack::{PackEngineBuilder, SourceFile, builtin};
use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::Pack as _;

const TYPICAL: &str =
    include_str!("../../examples/insecure-pipelines/.github/workflows/pr-preview.yml");

fn main() {
    let quick = std::env::var_os("SLUICE_BENCH_QUICK").is_some();
    let rounds = if quick { 3 } else { 10 };
    let source = builtin::sources()
        .into_iter()
        .find(|s| s.label().contains("github-actions"))
        .expect("the github-actions pack is built in");
    println!(
        "sluice pack benchmark (github-actions pack, {} KiB component)",
        source.bytes().len() / 1024
    );
    println!("{:<48} {:>12} {:>12}", "measurement", "median", "best");

    // Compile from scratch, no cache.
    let engine = PackEngineBuilder::new().build().expect("engine");
    let compile = time(rounds.min(5), || {
        black_box(engine.compile(&source).expect("compile"));
    });
    report("compile component (Cranelift, no cache)", &compile);

    // Load from the compile cache.
    let cache_dir = tempfile::tempdir().expect("temp dir");
    let cache = CompileCache::open(cache_dir.path()).expect("cache");
    let cached_engine = PackEngineBuilder::new()
        .cache(Some(cache))
        .build()
        .expect("engine");
    let (_, first) = cached_engine.compile(&source).expect("compile into cache");
    assert!(!first, "a fresh cache cannot hit");
    let load = time(rounds * 5, || {
        let (component, hit) = cached_engine.compile(&source).expect("load from cache");
        assert!(hit, "second compile must come from the cache");
        black_box(component);
    });
    report("load compiled component from cache", &load);
    let full_load = time(rounds, || {
        black_box(cached_engine.load(&source).expect("load + validate"));
    });
    report(
        "cached load + link + trial instantiate + info()",
        &full_load,
    );

    // One call: fresh store + instance + scan of a typical workflow.
    let (pack, _) = cached_engine.load(&source).expect("load");
    let typical = vec![SourceFile {
        path: ".github/workflows/pr-preview.yml".to_owned(),
        content: TYPICAL.to_owned(),
    }];
    let per_call = time(rounds * 50, || {
        black_box(pack.scan(&typical, &[]).expect("scan"));
    });
    report("instantiate + scan one typical workflow (wasm)", &per_call);
    let request = sluice_pack_sdk::ScanRequest {
        files: vec![sluice_pack_sdk::SourceFile {
            path: typical[0].path.clone(),
            content: typical[0].content.clone(),
        }],
        options: Vec::new(),
    };
    let native_call = time(rounds * 50, || {
        black_box(GithubActions::scan(&request).expect("native scan"));
    });
    report("scan one typical workflow (native rlib)", &native_call);

    // Corpus throughput, one call per file as in a per-repository scan of small repos.
    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/github-actions");
    let files = corpus_files(&corpus);
    if files.is_empty() {
        println!(
            "(corpus not found at {}; throughput skipped)",
            corpus.display()
        );
        return;
    }
    let bytes: usize = files.iter().map(|f| f.content.len()).sum();
    let corpus_rounds = if quick { 1 } else { 3 };
    let wasm = time(corpus_rounds, || {
        for file in &files {
            black_box(pack.scan(std::slice::from_ref(file), &[]).expect("scan"));
        }
    });
    let native_requests: Vec<sluice_pack_sdk::ScanRequest> = files
        .iter()
        .map(|f| sluice_pack_sdk::ScanRequest {
            files: vec![sluice_pack_sdk::SourceFile {
                path: f.path.clone(),
                content: f.content.clone(),
            }],
            options: Vec::new(),
        })
        .collect();
    let native = time(corpus_rounds, || {
        for request in &native_requests {
            black_box(GithubActions::scan(request).expect("native scan"));
        }
    });
    let one_call = time(corpus_rounds, || {
        black_box(
            pack.scan(&files, &[])
                .expect("scan whole corpus in one call"),
        );
    });
    let per_second = |d: Duration| files.len() as f64 / d.as_secs_f64();
    println!(
        "\ncorpus: {} files, {:.1} MB",
        files.len(),
        bytes as f64 / 1_000_000.0
    );
    println!(
        "  wasm, one call per file:   {:>8.0} files/s ({:.2} s)",
        per_second(median(&wasm)),
        median(&wasm).as_secs_f64()
    );
    println!(
        "  wasm, one call for all:    {:>8.0} files/s ({:.2} s)",
        per_second(median(&one_call)),
        median(&one_call).as_secs_f64()
    );
    println!(
        "  native rlib, per file:     {:>8.0} files/s ({:.2} s)",
        per_second(median(&native)),
        median(&native).as_secs_f64()
    );
    println!(
        "  sandbox overhead (wasm per-file / native): {:.2}x",
        median(&wasm).as_secs_f64() / median(&native).as_secs_f64()
    );

    compare_with_zizmor(&corpus, files.len(), corpus_rounds);
}

/// Runs the real `sluice` binary and zizmor over the corpus laid out as repositories.
fn compare_with_zizmor(corpus: &Path, file_count: usize, rounds: usize) {
    let Some(zizmor) = std::env::var_os("SLUICE_BENCH_ZIZMOR").map(PathBuf::from) else {
        println!(
            "\n(zizmor comparison skipped: set SLUICE_BENCH_ZIZMOR=$(tests/benches/install-zizmor.sh))"
        );
        return;
    };
    let layout = tempfile::tempdir().expect("temp dir");
    let repos = lay_out_as_repositories(corpus, layout.path());
    let cache = tempfile::tempdir().expect("temp dir");
    let sluice = |repos: &[PathBuf]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"));
        command
            .args([
                "scan",
                "--format",
                "json",
                "--fail-on",
                "never",
                "--cache-dir",
            ])
            .arg(cache.path())
            .args(repos);
        command
    };
    let zizmor_command = |repos: &[PathBuf]| {
        let mut command = std::process::Command::new(&zizmor);
        command
            .args(["--offline", "--format", "plain", "--no-progress"])
            .args(repos);
        command
    };
    // Warm the compile cache so sluice is measured the way a repeat user runs it.
    run_child(&mut sluice(&repos));
    let version = std::process::Command::new(&zizmor)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let measure = |make: &dyn Fn(&[PathBuf]) -> std::process::Command| {
        let samples: Vec<(Duration, Duration)> = (0..rounds.max(1))
            .map(|_| run_child(&mut make(&repos)))
            .collect();
        let wall = median(&samples.iter().map(|s| s.0).collect::<Vec<_>>());
        let cpu = median(&samples.iter().map(|s| s.1).collect::<Vec<_>>());
        (wall, cpu)
    };
    let (sluice_wall, sluice_cpu) = measure(&sluice);
    let (zizmor_wall, zizmor_cpu) = measure(&zizmor_command);
    let per_file = |d: Duration| d.as_secs_f64() * 1e6 / file_count as f64;
    println!(
        "\nwhole binaries on {file_count} workflows in {} repositories ({version}):",
        repos.len()
    );
    println!(
        "  sluice scan:       {:>8.0} files/s, {:>7.1} µs CPU per file ({:.2} s wall)",
        file_count as f64 / sluice_wall.as_secs_f64(),
        per_file(sluice_cpu),
        sluice_wall.as_secs_f64()
    );
    println!(
        "  zizmor --offline:  {:>8.0} files/s, {:>7.1} µs CPU per file ({:.2} s wall)",
        file_count as f64 / zizmor_wall.as_secs_f64(),
        per_file(zizmor_cpu),
        zizmor_wall.as_secs_f64()
    );
    println!(
        "  zizmor / sluice:   {:.1}x wall, {:.1}x CPU per file",
        zizmor_wall.as_secs_f64() / sluice_wall.as_secs_f64(),
        zizmor_cpu.as_secs_f64() / sluice_cpu.as_secs_f64()
    );
}

/// `<owner>__<repo>/.github__workflows__x.yml` → `<dest>/<owner>__<repo>/.github/workflows/x.yml`.
fn lay_out_as_repositories(corpus: &Path, dest: &Path) -> Vec<PathBuf> {
    let mut repos = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(corpus)
        .expect("read corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for repo in entries {
        let name = repo.file_name().expect("repo dir name");
        let workflows = dest.join(name).join(".github/workflows");
        std::fs::create_dir_all(&workflows).expect("mkdir workflows");
        for file in std::fs::read_dir(&repo)
            .expect("read repo dir")
            .filter_map(Result::ok)
        {
            let file_name = file.file_name().to_string_lossy().into_owned();
            let short = file_name
                .strip_prefix(".github__workflows__")
                .unwrap_or(&file_name)
                .to_owned();
            std::fs::copy(file.path(), workflows.join(short)).expect("copy workflow");
        }
        repos.push(dest.join(name));
    }
    repos
}

/// Runs a child to completion; returns its wall time and the CPU time (user + system) it used.
fn run_child(command: &mut std::process::Command) -> (Duration, Duration) {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let before = children_cpu();
    let start = Instant::now();
    let status = command.status().expect("run benchmark child");
    let wall = start.elapsed();
    assert!(
        status.code().is_some(),
        "benchmark child was killed: {status}"
    );
    (wall, children_cpu().saturating_sub(before))
}

/// CPU time of all waited-for children of this process so far.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    #[allow(unsafe_code)]
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_CHILDREN is a valid `who`.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn corpus_files(dir: &Path) -> Vec<SourceFile> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            out.extend(corpus_files(&path));
        } else if let Ok(content) = std::fs::read_to_string(&path) {
            out.push(SourceFile {
                path: path.to_string_lossy().into_owned(),
                content,
            });
        }
    }
    out
}

fn time(rounds: usize, mut f: impl FnMut()) -> Vec<Duration> {
    f(); // warm-up
    (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect()
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn report(name: &str, samples: &[Duration]) {
    let best = samples.iter().min().copied().unwrap_or_default();
    println!("{name:<48} {:>12} {:>12}", fmt(median(samples)), fmt(best));
}

fn fmt(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.1} µs")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}
