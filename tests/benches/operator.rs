//! `cargo bench --workspace --bench operator`: what the operator costs on a cluster with 1,000
//! subjects over 200 repositories, cold and with nothing changed.
//!
//! The fake Kubernetes API server (`tests/kube-fake`, with the upstream Argo CD, Flux and Tekton
//! CRDs and sluice's own) is served on 127.0.0.1, the fake GitHub API
//! (`tests/support/fake_github.rs`) serves 200 repositories, and the real `sluice operator`
//! binary runs as a child process against both through a written kubeconfig.
//!
//! - pass 1 (cold): from the process start until every subject's report has
//!   `status.lastEvaluated`; the GitHub requests and the API writes it took.
//! - pass 2 (nothing changed): the fake forgets its history and ends every watch, so every
//!   watch gets an in-stream 410, re-lists and every subject is reconciled again (seen in
//!   `sluice_scan_cache_hits_total`). Goals: no GitHub request that counts against the rate
//!   limit (anything but a 304), no API write.
//! - the operator's peak RSS (`VmHWM`), goal ≤ 150 MiB, and its RSS after pass 1.
//!
//! The pack compile cache is warmed by a local scan first, so "cold" measures GitHub and the
//! API server, not Cranelift. Both fakes run in this process on the same (shared) cores as the
//! operator, so wall times are indicative; the request and write counts are what carries over
//! to a real cluster. Only a functional failure panics (the operator died, reports missing
//! after ten minutes), never a missed goal.

#[path = "../support/fake_github.rs"]
// The bench uses only the serving and counting part of the fake server, not its faults.
#[allow(dead_code)]
mod fake_github;
#[path = "../support/operator.rs"]
mod operator;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::{Auth, FakeGithub, Seen};
use operator::{
    REPORTS, RISKY_WORKFLOW, SAFE_WORKFLOW, SLUICE_API, application, git_repository, namespace,
    repo_root,
};
use serde_json::Value;
use sluice_kube_fake::{FakeApiServer, RequestRecord};

const REPOSITORIES: usize = 200;
const SUBJECTS: usize = 1000;
const NAMESPACES: usize = 10;
/// Functional limit: reports still missing after this long means the operator is broken.
const PATIENCE: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(100);
/// How long nothing may change before a pass counts as finished.
const QUIET: Duration = Duration::from_secs(3);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let fake = FakeApiServer::new();
    let upstream = sluice_kube_fake::upstream_crds_dir().expect("the upstream CRDs are available");
    fake.load_crds_from_dir(&upstream)
        .expect("the upstream CRDs load");
    fake.load_crds_from_dir(&repo_root().join("crds"))
        .expect("sluice's CRDs load");
    let server = fake
        .serve_http()
        .await
        .expect("serve the fake API on 127.0.0.1");
    let work = tempfile::tempdir().expect("temporary directory");
    let kubeconfig = work.path().join("kubeconfig");
    fake.write_kubeconfig(&server, &kubeconfig)
        .expect("write the kubeconfig");
    let cache = work.path().join("cache");

    let github = FakeGithub::start("", Auth::Open);
    let commits = seed_repositories(&github);
    let kinds = seed_subjects(&fake, &commits);
    warm_pack_cache(&cache);

    let metrics_addr = free_port();
    let health_addr = free_port();
    let stderr_path = work.path().join("operator.stderr");
    let mut operator = Operator::spawn(
        &kubeconfig,
        &github.url,
        &cache,
        metrics_addr,
        health_addr,
        &stderr_path,
    );

    println!(
        "sluice operator benchmark: {SUBJECTS} subjects ({} Applications, {} GitRepositories) \
         in {NAMESPACES} namespaces over {REPOSITORIES} repositories; fake API and fake GitHub on 127.0.0.1",
        kinds.0, kinds.1
    );

    // ----- pass 1: cold -----
    let started = Instant::now();
    let mut ready_after = None;
    let cold_wall = loop {
        operator.check_alive();
        if ready_after.is_none() && http_get(health_addr, "/readyz").is_some_and(|r| r.0 == 200) {
            ready_after = Some(started.elapsed());
        }
        let evaluated = evaluated_reports(&fake);
        if evaluated >= SUBJECTS {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "only {evaluated} of {SUBJECTS} reports evaluated after {PATIENCE:?}\n{}",
            operator.stderr_tail()
        );
        tokio::time::sleep(POLL).await;
    };
    // Events and late status writes belong to the pass; wait until they stop.
    settle(&fake, &mut operator).await;
    let cold_metrics = scrape(metrics_addr);
    let rss_after_cold = proc_status_kib(operator.pid(), "VmRSS");
    let seen = github.seen();
    let requests = fake.requests();

    println!();
    println!(
        "{:<22} {:>10} {:>9} {:>12} {:>6} {:>11} {:>10}",
        "pass", "wall", "GitHub", "conditional", "304", "rate-limit", "API writes"
    );
    print_pass("1 cold", cold_wall, &seen, &requests);
    println!(
        "{:<22} ready (/readyz 200) after {}, states: {}",
        "",
        ready_after.map_or("never seen".to_owned(), |d| format!(
            "{:.1}s",
            d.as_secs_f64()
        )),
        state_counts(&fake)
    );
    println!("{:<22} {}", "", github_by_kind(&seen));
    println!("{:<22} {}", "", writes_by_kind(&requests));
    println!("{:<22} {}", "", reads_by_kind(&requests));
    println!(
        "{:<22} operator metrics: scans {}, scan cache hits {}",
        "",
        metric(&cold_metrics, "sluice_scans_total"),
        metric(&cold_metrics, "sluice_scan_cache_hits_total")
    );

    // ----- pass 2: nothing changed, every subject reconciled again after a 410 -----
    github.clear();
    fake.clear_log();
    let hits_before = metric(&cold_metrics, "sluice_scan_cache_hits_total");
    fake.compact();
    fake.drop_watches();
    let (hits_after, warm_wall) =
        wait_for_reevaluation(&mut operator, metrics_addr, hits_before).await;
    let warm_metrics = scrape(metrics_addr);
    let seen = github.seen();
    let requests = fake.requests();
    print_pass("2 nothing changed", warm_wall, &seen, &requests);
    println!("{:<22} {}", "", github_by_kind(&seen));
    println!("{:<22} {}", "", writes_by_kind(&requests));
    println!("{:<22} {}", "", reads_by_kind(&requests));
    println!(
        "{:<22} operator metrics: scans {} (+{}), scan cache hits +{} (subjects: {SUBJECTS})",
        "",
        metric(&warm_metrics, "sluice_scans_total"),
        metric(&warm_metrics, "sluice_scans_total") - metric(&cold_metrics, "sluice_scans_total"),
        hits_after - hits_before
    );
    let rate_limited = seen.iter().filter(|s| s.status != 304).count();
    let writes = requests.iter().filter(|r| r.is_write()).count();
    println!(
        "{:<22} goals: rate-limit requests {rate_limited} (goal 0), API writes {writes} (goal 0)",
        ""
    );

    // ----- memory -----
    let peak = proc_status_kib(operator.pid(), "VmHWM");
    let rss_end = proc_status_kib(operator.pid(), "VmRSS");
    println!();
    println!(
        "operator memory: peak RSS (VmHWM) {:.1} MiB (goal ≤ 150 MiB), RSS after pass 1 {:.1} MiB, at the end {:.1} MiB",
        mib(peak),
        mib(rss_after_cold),
        mib(rss_end)
    );
    operator.check_alive();
    let warnings = operator.log_lines();
    println!("operator log (SLUICE_LOG=warn): {} line(s)", warnings.len());
    for line in warnings.iter().take(5) {
        let cut: String = line.chars().take(240).collect();
        println!("  {cut}");
    }
    operator.stop();
    drop(server);
}

/// 200 repositories of five files: three workflows (every fourth repository's first one is
/// risky), a manifest and a README. A per-repository, per-file comment keeps every blob
/// distinct, so no repository's fetch is answered by another's. Returns the commits.
fn seed_repositories(github: &FakeGithub) -> Vec<(String, String)> {
    (0..REPOSITORIES)
        .map(|i| {
            let name = format!("bench-org/repo-{i:03}");
            let tag = |path: &str| format!("# {name}/{path}\n");
            let first = if i % 4 == 0 {
                RISKY_WORKFLOW
            } else {
                SAFE_WORKFLOW
            };
            let files = [
                (".github/workflows/ci.yml", format!("{first}{}", tag("ci"))),
                (
                    ".github/workflows/release.yml",
                    format!("{SAFE_WORKFLOW}{}", tag("release")),
                ),
                (
                    ".github/workflows/lint.yml",
                    format!("{SAFE_WORKFLOW}{}", tag("lint")),
                ),
                (
                    "deploy/service.yaml",
                    format!("apiVersion: v1\nkind: Service\n{}", tag("service")),
                ),
                ("README.md", format!("# {name}\n")),
            ];
            let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
            let commit = github.add_repo(&name, &files);
            (name, commit)
        })
        .collect()
}

/// 1,000 subjects, five per repository, alternating Argo CD Applications (deployed:
/// `status.sync.revision`) and Flux GitRepositories (`status.artifact.revision`) over ten
/// namespaces, in the URL forms clusters use. Returns (Applications, GitRepositories).
fn seed_subjects(fake: &FakeApiServer, commits: &[(String, String)]) -> (usize, usize) {
    for n in 0..NAMESPACES {
        fake.insert(namespace(&format!("team-{n}")))
            .expect("namespace");
    }
    let (mut apps, mut sources) = (0, 0);
    for i in 0..SUBJECTS {
        let (repo, commit) = &commits[i % REPOSITORIES];
        let ns = format!("team-{}", i % NAMESPACES);
        let object = if i % 2 == 0 {
            apps += 1;
            application(
                &ns,
                &format!("app-{i:04}"),
                &format!("https://github.com/{repo}.git"),
                Some(commit),
            )
        } else {
            sources += 1;
            let url = if i % 4 == 1 {
                format!("ssh://git@github.com/{repo}")
            } else {
                format!("https://github.com/{repo}")
            };
            git_repository(&ns, &format!("src-{i:04}"), &url, Some(commit))
        };
        fake.insert(object).expect("subject");
    }
    (apps, sources)
}

/// Compiles the built-in packs into `cache` with a local scan.
fn warm_pack_cache(cache: &Path) {
    let dir = tempfile::tempdir().expect("temporary checkout");
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).expect("create .github/workflows");
    std::fs::write(workflows.join("ci.yml"), SAFE_WORKFLOW).expect("write a workflow");
    let output = sluice()
        .arg("scan")
        .arg(dir.path())
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("run sluice");
    assert_eq!(
        output.status.code(),
        Some(0),
        "warming the pack cache failed\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The release `sluice` binary, with no token, kubeconfig or sluice settings from the
/// environment.
fn sluice() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SLUICE_") {
            command.env_remove(&name);
        }
    }
    command
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1");
    command
}

/// A port nobody listens on right now (the operator takes fixed addresses).
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
}

/// The operator child process; killed when dropped, so a panic does not leave it running.
struct Operator {
    child: Child,
    stderr: std::path::PathBuf,
}

impl Operator {
    fn spawn(
        kubeconfig: &Path,
        github_url: &str,
        cache: &Path,
        metrics: SocketAddr,
        health: SocketAddr,
        stderr: &Path,
    ) -> Operator {
        let log = std::fs::File::create(stderr).expect("create the operator's log file");
        let child = sluice()
            .arg("operator")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args([
                "--github-api-url",
                github_url,
                "--github-host",
                "github.com",
            ])
            .args(["--metrics-addr", &metrics.to_string()])
            .args(["--health-addr", &health.to_string()])
            .arg("--cache-dir")
            .arg(cache)
            .args(["--default-interval", "60m", "--log-format", "json"])
            .env("SLUICE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sluice operator");
        Operator {
            child,
            stderr: stderr.to_owned(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn check_alive(&mut self) {
        if let Some(status) = self.child.try_wait().expect("query the operator process") {
            panic!("the operator exited ({status})\n{}", self.stderr_tail());
        }
    }

    /// The operator's log lines (no token is configured, so none can appear in them).
    fn log_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.stderr)
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn evaluated_reports(fake: &FakeApiServer) -> usize {
    fake.list(SLUICE_API, REPORTS, None)
        .iter()
        .filter(|r| r.pointer("/status/lastEvaluated").is_some())
        .count()
}

/// Waits until the API log has had no new write for [`QUIET`].
async fn settle(fake: &FakeApiServer, operator: &mut Operator) {
    let mut last = fake.writes().len();
    let mut since = Instant::now();
    let deadline = Instant::now() + PATIENCE;
    while since.elapsed() < QUIET {
        operator.check_alive();
        assert!(
            Instant::now() < deadline,
            "the operator never stopped writing"
        );
        tokio::time::sleep(POLL).await;
        let now = fake.writes().len();
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

/// Waits until the scan cache hits grew by one per subject and then stopped changing; returns
/// the final count and the time to the last change.
async fn wait_for_reevaluation(
    operator: &mut Operator,
    metrics: SocketAddr,
    before: u64,
) -> (u64, Duration) {
    let started = Instant::now();
    let mut last = before;
    let mut changed_at = started;
    loop {
        operator.check_alive();
        let hits = metric(&scrape(metrics), "sluice_scan_cache_hits_total");
        if hits != last {
            last = hits;
            changed_at = Instant::now();
        }
        let quiet = changed_at.elapsed();
        // Done once every subject was seen again; or, if some never are, once nothing has
        // moved for long enough that the re-list is surely over (reported, not hidden).
        let complete = last >= before + SUBJECTS as u64 && quiet >= QUIET;
        let stalled = quiet >= Duration::from_secs(30);
        if complete || stalled {
            return (last, changed_at - started);
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the re-evaluation never finished ({} of {SUBJECTS} cache hits)\n{}",
            last - before,
            operator.stderr_tail()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// One GET over a fresh connection: (status, body).
fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

fn scrape(addr: SocketAddr) -> String {
    match http_get(addr, "/metrics") {
        Some((200, body)) => body,
        other => panic!("GET /metrics on the operator failed: {other:?}"),
    }
}

/// An unlabelled sample's value (0 when absent).
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// A `/proc/<pid>/status` field in KiB.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print_pass(pass: &str, wall: Duration, seen: &[Seen], requests: &[RequestRecord]) {
    let conditional = seen.iter().filter(|s| s.if_none_match.is_some()).count();
    let not_modified = seen.iter().filter(|s| s.status == 304).count();
    println!(
        "{:<22} {:>9.1}s {:>9} {:>12} {:>6} {:>11} {:>10}",
        pass,
        wall.as_secs_f64(),
        seen.len(),
        conditional,
        not_modified,
        seen.len() - not_modified,
        requests.iter().filter(|r| r.is_write()).count()
    );
}

fn github_by_kind(seen: &[Seen]) -> String {
    let kind = |part: &str| seen.iter().filter(|s| s.path.contains(part)).count();
    format!(
        "GitHub by kind: {} commits, {} trees, {} blobs",
        kind("/commits/"),
        kind("/git/trees/"),
        kind("/git/blobs/")
    )
}

/// API writes by method and resource (the path without namespace and name).
fn writes_by_kind(requests: &[RequestRecord]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in requests.iter().filter(|r| r.is_write()) {
        *counts
            .entry(format!("{} {}", r.method, resource_of(&r.path)))
            .or_default() += 1;
    }
    if counts.is_empty() {
        return "API writes: none".to_owned();
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!("API writes: {}", parts.join(", "))
}

/// API reads: watches, and the other GETs (lists and single objects) by resource.
fn reads_by_kind(requests: &[RequestRecord]) -> String {
    let reads: Vec<&RequestRecord> = requests.iter().filter(|r| !r.is_write()).collect();
    let watches = reads.iter().filter(|r| r.is_watch()).count();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in reads.iter().filter(|r| !r.is_watch()) {
        *counts.entry(resource_of(&r.path)).or_default() += 1;
    }
    let mut parts: Vec<(usize, String)> = counts.into_iter().map(|(k, n)| (n, k)).collect();
    parts.sort_by(|a, b| b.cmp(a));
    let top: Vec<String> = parts
        .iter()
        .take(4)
        .map(|(n, k)| format!("{n} {k}"))
        .collect();
    format!(
        "API reads: {} ({} watches; GETs: {}{})",
        reads.len(),
        watches,
        top.join(", "),
        if parts.len() > 4 { ", ..." } else { "" }
    )
}

/// The resource a path names, without group, version, namespace and name:
/// `/apis/g/v/namespaces/ns/plural/name/status` → `plural/status`, `/apis/g/v/plural` (a
/// cluster-wide list) → `plural`, `/api/v1/namespaces/ns/events` → `events`.
fn resource_of(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest: &[&str] = match parts.iter().position(|p| *p == "namespaces") {
        Some(at) if parts.len() > at + 2 => &parts[at + 2..],
        _ => match parts.first() {
            Some(&"apis") => parts.get(3..).unwrap_or_default(),
            Some(&"api") => parts.get(2..).unwrap_or_default(),
            _ => &parts,
        },
    };
    match rest {
        [plural] | [plural, _] => (*plural).to_owned(),
        [plural, _, sub, ..] => format!("{plural}/{sub}"),
        [] => path.to_owned(),
    }
}

fn state_counts(fake: &FakeApiServer) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for report in fake.list(SLUICE_API, REPORTS, None) {
        let state = report
            .pointer("/status/state")
            .and_then(Value::as_str)
            .unwrap_or("(none)")
            .to_owned();
        *counts.entry(state).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}
