//! `cargo bench -p sluice --bench github`: what remote scanning costs, cold and warm.
//!
//! Serves 200 repositories from the fake GitHub API of `tests/github.rs`
//! (`tests/support/fake_github.rs`) on 127.0.0.1, then runs the real `sluice` binary with all
//! 200 `--github` arguments in one invocation and one cache directory: first with an empty
//! GitHub cache (cold), then again (warm), then as `--github-org bench-org` (`org`: the
//! repositories are warm, the organisation listing, two pages of 100, is new). For each pass it
//! prints wall time, the requests the server saw (total, conditional, answered 304,
//! non-conditional), the findings reported, and how many pack runs the result cache answered
//! (`summary.cachedResults`): on a warm pass every one, so no pack runs.
//!
//! Each repository holds three workflows (every fourth repository has a script injection in
//! one), a YAML file only a content pattern could want, and two files no pack reads. Every file's
//! content is distinct, so no blob is shared and every repository costs its own fetches.
//!
//! 200 `--github` arguments in one invocation are no problem (well under any argv limit), so
//! the bench measures exactly that rather than 200 processes.
//!
//! The pack compile cache is warmed by a local scan before the cold pass, so "cold" measures
//! the GitHub side, not Cranelift. The server is local, so the wall times are sluice's own cost
//! plus loopback round trips, not GitHub's latency: the request counts are the figures that
//! carry over to api.github.com.

#[path = "../support/fake_github.rs"]
// The bench uses only the serving and counting part of the fake server, not its faults.
#[allow(dead_code)]
mod fake_github;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fake_github::{Auth, FakeGithub, Seen};

const REPOSITORIES: usize = 200;

/// A workflow with a high-severity script injection.
const INJECTION: &str = "name: triage
on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"${{ github.event.issue.title }}\"
";

/// A workflow with nothing to report.
const CLEAN: &str = "name: ci
on: push
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: cargo test
";

fn main() {
    let server = FakeGithub::start("", Auth::Open);
    let mut names = Vec::with_capacity(REPOSITORIES);
    for i in 0..REPOSITORIES {
        let name = format!("bench-org/repo-{i:03}");
        // A per-repository, per-file comment keeps every blob distinct.
        let tag = |path: &str| format!("# {name}/{path}\n");
        let first = if i % 4 == 0 { INJECTION } else { CLEAN };
        let files = [
            (
                ".github/workflows/triage.yml",
                format!("{first}{}", tag("triage")),
            ),
            (".github/workflows/ci.yml", format!("{CLEAN}{}", tag("ci"))),
            (
                ".github/workflows/release.yml",
                format!("{CLEAN}{}", tag("release")),
            ),
            (
                "deploy/service.yaml",
                format!("apiVersion: v1\nkind: Service\n{}", tag("service")),
            ),
            ("README.md", format!("# {name}\n")),
            ("src/main.rs", format!("fn main() {{}} // {name}\n")),
        ];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        server.add_repo(&name, &files);
        names.push(name);
    }
    let listed: Vec<(&str, bool)> = names.iter().map(|n| (n.as_str(), false)).collect();
    server.add_org("bench-org", &listed);
    let by_name: Vec<String> = names
        .iter()
        .flat_map(|name| ["--github".to_owned(), name.clone()])
        .collect();
    let by_org = vec!["--github-org".to_owned(), "bench-org".to_owned()];

    let cache = tempfile::tempdir().expect("temporary cache directory");
    warm_pack_cache(cache.path());

    println!(
        "sluice GitHub benchmark: {REPOSITORIES} repositories, one invocation, fake API on 127.0.0.1"
    );
    println!(
        "{:<9} {:>10} {:>9} {:>12} {:>6} {:>16} {:>9} {:>7}",
        "pass", "wall", "requests", "conditional", "304", "non-conditional", "findings", "cached"
    );
    for (pass, targets) in [("cold", &by_name), ("warm", &by_name), ("org", &by_org)] {
        server.clear();
        let started = Instant::now();
        let output = scan(&server, cache.path(), targets);
        let wall = started.elapsed();
        let seen = server.seen();
        report(pass, wall, &seen, &output);
        // sluice's own counters, as -v prints them, to cross-check the server's.
        let stderr = String::from_utf8_lossy(&output.stderr);
        for counter in ["GitHub: ", "result cache: "] {
            if let Some(at) = stderr
                .lines()
                .find_map(|l| l.find(counter).map(|at| &l[at..]))
            {
                println!("          sluice -v: {at}");
            }
        }
    }
}

/// Compiles the built-in packs into `cache` with a local scan, so the cold pass does not pay
/// for it.
fn warm_pack_cache(cache: &std::path::Path) {
    let dir = tempfile::tempdir().expect("temporary checkout");
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).expect("create .github/workflows");
    std::fs::write(workflows.join("ci.yml"), CLEAN).expect("write a workflow");
    let output = sluice(cache)
        .arg("scan")
        .arg(dir.path())
        .output()
        .expect("run sluice");
    assert_eq!(
        output.status.code(),
        Some(0),
        "warming the pack cache failed\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The release `sluice` binary cargo built for this bench, with `cache` as its cache directory
/// and no token or log settings from the environment.
fn sluice(cache: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .env("SLUICE_CACHE_DIR", cache)
        .env_remove("SLUICE_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env("NO_COLOR", "1");
    command
}

fn scan(server: &FakeGithub, cache: &std::path::Path, targets: &[String]) -> Output {
    let mut command = sluice(cache);
    command
        .args(["scan", "-v", "--format", "json", "--github-api-url"])
        .arg(&server.url)
        .args(targets);
    let output = command.output().expect("run sluice");
    // 1: findings at or above the failing severity; 2 would mean the scan itself failed.
    assert_eq!(
        output.status.code(),
        Some(1),
        "the scan did not report its findings\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn report(pass: &str, wall: Duration, seen: &[Seen], output: &Output) {
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("--format json output is JSON");
    let findings = report["findings"]
        .as_array()
        .expect("the report lists findings")
        .len();
    let cached = report["summary"]["cachedResults"]
        .as_u64()
        .expect("the summary counts cached results");
    let conditional = seen.iter().filter(|s| s.if_none_match.is_some()).count();
    let not_modified = seen.iter().filter(|s| s.status == 304).count();
    println!(
        "{:<9} {:>8.1}ms {:>9} {:>12} {:>6} {:>16} {:>9} {:>7}",
        pass,
        wall.as_secs_f64() * 1000.0,
        seen.len(),
        conditional,
        not_modified,
        seen.len() - conditional,
        findings,
        cached
    );
    let kind = |part: &str| seen.iter().filter(|s| s.path.contains(part)).count();
    println!(
        "          by kind: {} org pages, {} commits, {} trees, {} blobs",
        kind("/orgs/"),
        kind("/commits/"),
        kind("/git/trees/"),
        kind("/git/blobs/")
    );
}
