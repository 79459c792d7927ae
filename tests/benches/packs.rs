//! `cargo bench -p sluice --bench packs`: what the sandbox costs.
//!
//! Measures, in one run: compiling the built-in GitHub Actions component, loading it from the
//! compile cache, one instantiate + scan call on a typical workflow, and throughput over the
//! shared corpus (`../shared/corpus/github-actions`) — and the same pack code called natively
//! (linked as an rlib), so the sandbox's overhead is a measured ratio, not a guess.
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
