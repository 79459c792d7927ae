//! `sluice scan --github` through the real binary, against a fake GitHub REST API
//! (`support/fake_github.rs`) that this test starts on 127.0.0.1: commits (with ETags and 304s),
//! recursive and per-directory trees, base64 blobs, authentication failures, GitHub Enterprise's
//! `/api/v3` prefix. The fake server records every request, so the tests can say exactly what
//! was asked for.

#[path = "support/fake_github.rs"]
mod fake_github;
mod support;

use fake_github::{AppAuth, Auth, FakeGithub, STALL, Seen};
use support::{code, json, stderr, stdout};

/// A workflow with a high-severity script injection (FG-002) on line 8.
const INJECTION: &str = "name: triage
on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"${{ github.event.issue.title }}\"
";

const TOKEN: &str = "ghp_fakeTokenThatMustNeverBePrinted0001";

/// `sluice scan` against `server` with no token from the environment.
fn scan(server: &FakeGithub, args: &[&str]) -> std::process::Output {
    support::sluice()
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .arg("scan")
        .arg("--github-api-url")
        .arg(&server.url)
        .args(args)
        .output()
        .expect("run sluice")
}

fn app_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (".github/workflows/triage.yml", INJECTION),
        ("README.md", "# app\n"),
        ("src/main.rs", "fn main() {}\n"),
        // Only a content pattern (Tekton's) could want it: fetched, then dropped by marker.
        ("deploy/service.yaml", "apiVersion: v1\nkind: Service\n"),
    ]
}

fn blob_requests(seen: &[Seen]) -> usize {
    seen.iter()
        .filter(|s| s.path.contains("/git/blobs/"))
        .count()
}

#[test]
fn a_served_repository_is_scanned_at_its_resolved_commit() {
    let server = FakeGithub::start("", Auth::Open);
    let commit = server.add_repo("octo/app", &app_files());
    let output = scan(&server, &["--github", "octo/app", "--format", "json"]);
    assert_eq!(code(&output), 1, "FG-002 is high\n{}", stderr(&output));
    let report = json(&output);
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["ruleId"] == "FG-002"
            && f["path"] == format!("octo/app@{commit}:.github/workflows/triage.yml")),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        report["repositories"],
        serde_json::json!([{"repository": "octo/app", "commit": commit}])
    );
    let seen = server.seen();
    // One ref resolution, one recursive tree, and only the blobs a pack could want: the
    // workflow and the YAML file a content pattern might want, not README.md or main.rs.
    assert_eq!(
        seen.iter().filter(|s| s.path.contains("/commits/")).count(),
        1
    );
    assert_eq!(
        seen.iter()
            .filter(|s| s.path.contains("/git/trees/") && s.path.ends_with("?recursive=1"))
            .count(),
        1
    );
    assert_eq!(blob_requests(&seen), 2, "{seen:#?}");
}

#[test]
fn a_warm_rescan_sends_only_conditional_requests() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    let first = scan(&server, &["--github", "octo/app@main", "--format", "json"]);
    assert_eq!(code(&first), 1, "{}", stderr(&first));
    server.clear();
    let second = scan(
        &server,
        &["-v", "--github", "octo/app@main", "--format", "json"],
    );
    assert_eq!(code(&second), 1, "{}", stderr(&second));
    // The counters the operator will export, as -v shows them.
    assert!(
        stderr(&second).contains("GitHub: 1 request (1 conditional, 1 not modified, 0 retried)"),
        "{}",
        stderr(&second)
    );
    assert_eq!(json(&first)["findings"], json(&second)["findings"]);
    let seen = server.seen();
    assert!(!seen.is_empty());
    for request in &seen {
        assert!(
            request.if_none_match.is_some() && request.status == 304,
            "a warm scan sent a non-conditional request: {request:?}"
        );
    }
}

#[test]
fn missing_repositories_and_refs_are_errors_not_clean_scans() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    for spec in ["octo/nope", "octo/app@no-such-branch"] {
        let output = scan(&server, &["--github", spec]);
        assert_eq!(code(&output), 2, "{spec}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "{spec}: repository or ref not found (is the token allowed to read it?)"
            )),
            "{err}"
        );
        assert!(
            !stdout(&output).contains("no findings"),
            "{}",
            stdout(&output)
        );
    }
}

#[test]
fn bad_credentials_forbidden_and_rate_limits_are_told_apart() {
    let cases = [
        (
            Auth::Require("the-right-token".to_owned()),
            "401 Bad credentials",
        ),
        (Auth::Forbidden, "403 Forbidden"),
        (Auth::RateLimited, "rate limit exceeded"),
    ];
    for (auth, expected) in cases {
        let server = FakeGithub::start("", auth);
        server.add_repo("octo/app", &app_files());
        let output = support::sluice()
            .env("GITHUB_TOKEN", TOKEN)
            .env_remove("GH_TOKEN")
            .args([
                "scan",
                "--github-api-url",
                &server.url,
                "--github",
                "octo/app",
            ])
            .output()
            .expect("run sluice");
        assert_eq!(code(&output), 2, "{expected}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(!err.contains(TOKEN) && !stdout(&output).contains(TOKEN));
    }
}

#[test]
fn a_github_enterprise_base_url_with_api_v3_works() {
    let server = FakeGithub::start("/api/v3", Auth::Open);
    server.add_repo("corp/service", &app_files());
    assert!(server.url.ends_with("/api/v3"));
    let output = scan(&server, &["--github", "corp/service", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|s| s.path.starts_with("/api/v3/repos/corp/service/")),
        "{seen:#?}"
    );
    assert!(seen.iter().all(|s| s.status == 200), "{seen:#?}");
}

#[test]
fn the_token_is_sent_as_authorization_and_never_printed() {
    let server = FakeGithub::start("", Auth::Require(TOKEN.to_owned()));
    let commit = server.add_repo("octo/private", &app_files());
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("write token file");
    let from_env = support::sluice()
        .env("GH_TOKEN", TOKEN)
        .env_remove("GITHUB_TOKEN")
        .args([
            "-vv",
            "scan",
            "--github-api-url",
            &server.url,
            "--github",
            "octo/private",
        ])
        .output()
        .expect("run sluice");
    let from_file = scan(
        &server,
        &[
            "--github-token-file",
            token_file.to_str().expect("UTF-8 path"),
            "--github",
            "octo/private",
            "-v",
        ],
    );
    // The table names the commit it is about.
    assert!(
        stdout(&from_env).contains(&format!(
            "scanned octo/private (default branch) at commit {commit}"
        )),
        "{}",
        stdout(&from_env)
    );
    for output in [&from_env, &from_file] {
        assert_eq!(code(output), 1, "{}", stderr(output));
        assert!(!stdout(output).contains(TOKEN) && !stderr(output).contains(TOKEN));
    }
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some(&format!("Bearer {TOKEN}")[..])),
        "{seen:#?}"
    );
}

#[test]
fn a_truncated_tree_is_listed_directory_by_directory() {
    let server = FakeGithub::start("", Auth::Open);
    server.state.lock().expect("state").truncate = true;
    let commit = server.add_repo("octo/big", &app_files());
    let output = scan(&server, &["--github", "octo/big", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["path"] == format!("octo/big@{commit}:.github/workflows/triage.yml")),
        "{report:#}"
    );
    let seen = server.seen();
    // Root, .github, .github/workflows, deploy, src: one request per directory.
    let walked = seen
        .iter()
        .filter(|s| s.path.contains("/git/trees/") && !s.path.contains('?'))
        .count();
    assert_eq!(walked, 5, "{seen:#?}");
}

#[test]
fn local_paths_and_github_repositories_combine_in_one_report() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    let local = support::repo(&[(".github/workflows/ci.yml", INJECTION)]);
    let output = scan(
        &server,
        &[
            "--github",
            "octo/app",
            local.path().to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == "FG-002")
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(
        paths.iter().any(|p| p.starts_with("octo/app@")),
        "{paths:?}"
    );
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

#[test]
fn a_secondary_rate_limit_is_waited_out_then_the_scan_succeeds() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    server.fail_next(vec![(
        403,
        vec![
            ("retry-after", "1".to_owned()),
            ("x-ratelimit-remaining", "4000".to_owned()),
        ],
        r#"{"message":"You have exceeded a secondary rate limit."}"#.to_owned(),
    )]);
    let started = std::time::Instant::now();
    let output = scan(&server, &["--github", "octo/app", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    let seen = server.seen();
    assert_eq!(seen[0].status, 403);
    assert_eq!(
        seen[1].path, seen[0].path,
        "the same request is sent again: {seen:#?}"
    );
    assert_eq!(seen[1].status, 200);
}

#[test]
fn server_errors_are_retried_a_bounded_number_of_times() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    let error = |status| {
        (
            status,
            Vec::new(),
            r#"{"message":"Server Error"}"#.to_owned(),
        )
    };
    server.fail_next(vec![error(502), error(503)]);
    let output = scan(&server, &["--github", "octo/app", "--format", "json"]);
    assert_eq!(
        code(&output),
        1,
        "two failures then success: {}",
        stderr(&output)
    );
    let seen = server.seen();
    assert_eq!(
        seen.iter().map(|s| s.status).take(3).collect::<Vec<_>>(),
        [502, 503, 200]
    );

    let broken = FakeGithub::start("", Auth::Open);
    broken.add_repo("octo/app", &app_files());
    broken.fail_next((0..10).map(|_| error(500)).collect());
    let output = scan(&broken, &["--github", "octo/app"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("GitHub answered 500"),
        "{}",
        stderr(&output)
    );
    // The first try and three retries, then the error: never an endless loop.
    assert_eq!(broken.seen().len(), 4, "{:#?}", broken.seen());
}

#[test]
fn a_primary_rate_limit_fails_at_once_or_is_waited_for_with_github_wait() {
    let limited = |reset: u64| {
        (
            403,
            vec![
                ("x-ratelimit-remaining", "0".to_owned()),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            r#"{"message":"API rate limit exceeded for user."}"#.to_owned(),
        )
    };
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    let reset = unix_now() + 1;
    server.fail_next(vec![limited(reset)]);
    let output = scan(&server, &["--github", "octo/app"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("rate limit exceeded (403); it resets at {reset}")),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.seen().len(), 1, "no retry without --github-wait");

    server.clear();
    server.fail_next(vec![limited(unix_now() + 1)]);
    let output = scan(&server, &["--github", "octo/app", "--github-wait", "30s"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let seen = server.seen();
    assert_eq!(seen[0].status, 403);
    assert_eq!(seen[1].status, 200, "{seen:#?}");
}

#[test]
fn a_stalled_request_times_out_and_is_retried() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    server.fail_next(vec![(STALL, Vec::new(), String::new())]);
    let started = std::time::Instant::now();
    let output = scan(
        &server,
        &[
            "--github",
            "octo/app@main",
            "--github-timeout",
            "1s",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the timeout did not cut the stalled request short"
    );
    assert_eq!(json(&output)["repositories"][0]["ref"], "main");
    let seen = server.seen();
    assert_eq!(seen[0].status, STALL);
    assert_eq!(seen[1].path, seen[0].path, "{seen:#?}");
    assert_eq!(seen[1].status, 200);
}

#[test]
fn after_a_push_only_the_changed_files_are_fetched() {
    let server = FakeGithub::start("", Auth::Open);
    let mut files = app_files();
    files.push((".github/workflows/release.yml", INJECTION));
    let first = server.add_repo("octo/app", &files);
    let output = scan(&server, &["--github", "octo/app@main", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    // The two workflows are identical, one blob: fetched once, scanned as both files.
    assert_eq!(blob_requests(&server.seen()), 2, "{:#?}", server.seen());
    assert_eq!(json(&output)["findings"].as_array().map(Vec::len), Some(2));
    // A push changes one workflow: the branch moves to a new commit.
    files[0].1 = "name: triage\non: issues\npermissions: {}\njobs: {}\n";
    let second = server.add_repo("octo/app", &files);
    assert_ne!(first, second);
    server.clear();
    let output = scan(&server, &["--github", "octo/app@main", "--format", "json"]);
    assert_eq!(
        code(&output),
        1,
        "release.yml still has FG-002: {}",
        stderr(&output)
    );
    let report = json(&output);
    assert_eq!(report["repositories"][0]["commit"], second.as_str());
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == "FG-002")
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [format!("octo/app@{second}:.github/workflows/release.yml")]
    );
    let seen = server.seen();
    // The conditional ref request misses (the ETag changed), the new commit's tree is listed,
    // and of the blobs only the changed workflow is fetched.
    let commits: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.contains("/commits/"))
        .collect();
    assert_eq!(commits.len(), 1);
    assert!(commits[0].if_none_match.is_some() && commits[0].status == 200);
    assert_eq!(
        seen.iter()
            .filter(|s| s.path.contains("/git/trees/"))
            .count(),
        1
    );
    assert_eq!(blob_requests(&seen), 1, "{seen:#?}");
}

#[test]
fn a_renamed_repository_is_followed_but_never_to_another_host() {
    let server = FakeGithub::start("/api/v3", Auth::Require(TOKEN.to_owned()));
    let commit = server.add_repo("octo/app-renamed", &app_files());
    let new_home = format!("{}/repos/octo/app-renamed", server.url);
    server
        .state
        .lock()
        .expect("state")
        .moved
        .insert("octo/app".to_owned(), new_home);
    let output = support::sluice()
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "scan",
            "--github-api-url",
            &server.url,
            "--github",
            "octo/app",
            "--format",
            "json",
        ])
        .output()
        .expect("run sluice");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(json(&output)["repositories"][0]["commit"], commit.as_str());
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.status == 301), "{seen:#?}");
    // The token went along to the new address, which is under the same API URL.
    assert!(seen.iter().all(|s| s.status != 401), "{seen:#?}");

    let elsewhere = FakeGithub::start("", Auth::Open);
    elsewhere.state.lock().expect("state").moved.insert(
        "octo/app".to_owned(),
        "https://github.invalid/repos/octo/app".to_owned(),
    );
    let output = scan(&elsewhere, &["--github", "octo/app"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not followed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        elsewhere.seen().len(),
        1,
        "the foreign address is never contacted"
    );
}

#[test]
fn configuration_and_inline_suppressions_in_the_repository_apply() {
    let server = FakeGithub::start("", Auth::Open);
    let suppressed = "name: label
on: issues
permissions: {}
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      # sluice: ignore[FG-002] the title is only echoed
      - run: echo \"${{ github.event.issue.title }}\"
";
    server.add_repo(
        "octo/app",
        &[
            (".github/workflows/triage.yml", INJECTION),
            (".github/workflows/label.yml", suppressed),
            (
                ".sluice.yml",
                "rules:\n  FG-002:\n    ignore:\n      - \".github/workflows/triage.yml\"\n",
            ),
        ],
    );
    let output = scan(&server, &["--github", "octo/app", "--format", "json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["summary"]["configIgnored"], 1, "{report:#}");
    assert_eq!(report["summary"]["suppressed"], 1, "{report:#}");

    // A broken configuration names its place in the repository, like a local one.
    let broken = FakeGithub::start("", Auth::Open);
    broken.add_repo(
        "octo/app",
        &[
            (".github/workflows/triage.yml", INJECTION),
            (".sluice.yml", "rules:\n  FG-002:\n    disabel: true\n"),
        ],
    );
    let output = scan(&broken, &["--github", "octo/app"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("octo/app@") && stderr(&output).contains(":.sluice.yml:3"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_repository_without_pipelines_is_nothing_to_scan_not_clean() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo(
        "octo/docs",
        &[("README.md", "# docs\n"), ("src/lib.rs", "\n")],
    );
    let output = scan(&server, &["--github", "octo/docs"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing to scan: 2 files under octo/docs"),
        "{}",
        stderr(&output)
    );
    // No blob was needed to know that.
    assert_eq!(blob_requests(&server.seen()), 0);
}

#[test]
fn github_options_without_a_repository_are_a_usage_error() {
    let output = support::run(&[
        "scan",
        "--github-token-file",
        "token",
        "examples/insecure-pipelines",
    ]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("--github"), "{}", stderr(&output));
    // Their defaults alone change nothing for a local scan.
    let output = support::run(&["scan", "examples/insecure-pipelines", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(json(&output).get("repositories").is_none());
}

#[test]
fn a_baseline_written_from_a_checkout_applies_to_the_remote_scan() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    // The same workflow on disk: fingerprints use the repository-relative path, not where the
    // file was read from.
    let checkout = support::repo(&[(".github/workflows/triage.yml", INJECTION)]);
    let baseline = checkout.path().join("baseline.json");
    let baseline = baseline.to_str().expect("UTF-8 path");
    let local = support::run(&[
        "scan",
        "--write-baseline",
        baseline,
        checkout.path().to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(code(&local), 1, "{}", stderr(&local));
    let output = scan(
        &server,
        &[
            "--github",
            "octo/app",
            "--baseline",
            baseline,
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["summary"]["baselined"], 1, "{report:#}");
}

#[test]
fn a_workflow_over_the_size_limit_is_an_error_and_is_not_fetched() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_repo("octo/app", &app_files());
    let output = scan(
        &server,
        &[
            "--github",
            "octo/app",
            "--max-file-size",
            "150",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let report = json(&output);
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "too-large", "{report:#}");
    assert!(
        error["path"]
            .as_str()
            .expect("path")
            .ends_with(":.github/workflows/triage.yml"),
        "{report:#}"
    );
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("over the 150-byte limit"),
        "{report:#}"
    );
    // Only deploy/service.yaml (about 100 bytes with the salt) was fetched.
    assert_eq!(blob_requests(&server.seen()), 1);
}

const APP_KEY: &str = "tests/fixtures/github-app/test-app-key.pem";
const APP_ID: u64 = 4242;
const INSTALLATION_TOKEN: &str = "ghs_fakeInstallationTokenNeverPrinted01";

/// A server that only answers a GitHub App installation (App 4242, installation 77) whose
/// tokens are valid for `lifetime_secs`.
fn app_server_with(lifetime_secs: u64) -> FakeGithub {
    let public_pem =
        std::fs::read(support::repo_root().join("tests/fixtures/github-app/test-app-key.pub.pem"))
            .expect("the test App's public key is committed");
    FakeGithub::start(
        "",
        Auth::App(AppAuth {
            app_id: APP_ID,
            installation_id: 77,
            public_pem,
            token: INSTALLATION_TOKEN.to_owned(),
            lifetime_secs,
        }),
    )
}

fn app_server() -> FakeGithub {
    app_server_with(3600)
}

fn app_args(installation: &str) -> Vec<String> {
    [
        "--github-app-id",
        &APP_ID.to_string(),
        "--github-app-key",
        APP_KEY,
        "--github-installation-id",
        installation,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

#[test]
fn a_github_app_buys_one_installation_token_for_the_whole_scan_and_never_prints_it() {
    let server = app_server();
    let first = server.add_repo("octo/app", &app_files());
    let second = server.add_repo("octo/other", &app_files());
    let mut args = app_args("77");
    args.extend(
        [
            "-vv",
            "--github",
            "octo/app",
            "--github",
            "octo/other",
            "--format",
            "json",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = scan(&server, &args);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    for (repo, commit) in [("octo/app", &first), ("octo/other", &second)] {
        assert!(
            report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["path"] == format!("{repo}@{commit}:.github/workflows/triage.yml")),
            "{report:#}"
        );
    }
    let seen = server.seen();
    let exchanges: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.ends_with("/access_tokens"))
        .collect();
    assert_eq!(exchanges.len(), 1, "one token for every request: {seen:#?}");
    assert_eq!(exchanges[0].method, "POST");
    assert_eq!(exchanges[0].status, 201);
    let jwt = exchanges[0]
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .expect("the JWT is sent as a bearer token");
    let bearer = format!("Bearer {INSTALLATION_TOKEN}");
    for request in seen.iter().filter(|s| !s.path.ends_with("/access_tokens")) {
        assert_eq!(
            request.authorization.as_deref(),
            Some(bearer.as_str()),
            "{request:?}"
        );
        assert_eq!(request.status, 200, "{request:?}");
    }
    let printed = format!("{}{}", stdout(&output), stderr(&output));
    assert!(stderr(&output).contains("POST /app/installations/77/access_tokens"));
    for secret in [jwt, INSTALLATION_TOKEN, "PRIVATE KEY"] {
        assert!(!printed.contains(secret), "{secret} was printed");
    }
}

#[test]
fn an_installation_token_about_to_expire_is_renewed_before_use() {
    // Two minutes left is inside the five-minute margin: every request buys a fresh token.
    let server = app_server_with(120);
    server.add_repo("octo/app", &app_files());
    let mut args = app_args("77");
    args.extend(["--github", "octo/app", "--format", "json"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = scan(&server, &args);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let seen = server.seen();
    let (exchanges, requests): (Vec<&Seen>, Vec<&Seen>) = seen
        .iter()
        .partition(|s| s.path.ends_with("/access_tokens"));
    assert!(!requests.is_empty());
    assert_eq!(exchanges.len(), requests.len(), "{seen:#?}");
}

#[test]
fn a_server_error_buying_the_installation_token_is_retried() {
    let server = app_server();
    server.add_repo("octo/app", &app_files());
    server.fail_next(vec![(
        502,
        Vec::new(),
        r#"{"message":"Server Error"}"#.to_owned(),
    )]);
    let mut args = app_args("77");
    args.extend(["--github", "octo/app", "--format", "json"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = scan(&server, &args);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let seen = server.seen();
    assert!(
        seen[0].path.ends_with("/access_tokens") && seen[0].status == 502,
        "{seen:#?}"
    );
    assert!(
        seen[1].path.ends_with("/access_tokens") && seen[1].status == 201,
        "{seen:#?}"
    );
}

#[test]
fn rejected_or_unusable_app_credentials_are_clear_errors() {
    let server = app_server();
    server.add_repo("octo/app", &app_files());
    let mut args = app_args("78");
    args.extend(["--github", "octo/app"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = scan(&server, &args);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("GitHub rejected the GitHub App credentials (404 from access_tokens)")
            && err.contains("the installation id (78)"),
        "{err}"
    );
    assert!(!stdout(&output).contains("no findings"));
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.path.ends_with("/access_tokens")),
        "no repository request without a token: {:#?}",
        server.seen()
    );

    // A file that is not a private key is named before any request.
    let server = app_server();
    let output = scan(
        &server,
        &[
            "--github-app-id",
            "4242",
            "--github-app-key",
            "tests/fixtures/github-app/test-app-key.pub.pem",
            "--github-installation-id",
            "77",
            "--github",
            "octo/app",
        ],
    );
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "the GitHub App key file tests/fixtures/github-app/test-app-key.pub.pem is not a PEM RSA private key"
        ),
        "{}",
        stderr(&output)
    );
    assert!(server.seen().is_empty());

    // The three App flags go together, and not with a token file.
    for incomplete in [
        &["--github-app-id", "1", "--github", "octo/app"][..],
        &["--github-app-key", APP_KEY, "--github", "octo/app"][..],
        &[
            "--github-app-id",
            "1",
            "--github-app-key",
            APP_KEY,
            "--github-installation-id",
            "2",
            "--github-token-file",
            "token",
            "--github",
            "octo/app",
        ][..],
    ] {
        let output = scan(&server, incomplete);
        assert_eq!(code(&output), 2, "{incomplete:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("--github-"), "{}", stderr(&output));
    }
    // Auth flags need something to read from GitHub.
    let output = support::run(&[
        "scan",
        "--github-app-id",
        "1",
        "--github-app-key",
        APP_KEY,
        "--github-installation-id",
        "2",
        "examples/insecure-pipelines",
    ]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--github-app-id needs --github or --github-org"),
        "{}",
        stderr(&output)
    );
}

/// `octo` with five repositories over three pages of two: `a`, `b`, `c` (archived), `d`, `e`.
fn org_server() -> (FakeGithub, Vec<String>) {
    let server = FakeGithub::start("", Auth::Open);
    server.state.lock().expect("state").page_size = 2;
    let commits = ["octo/a", "octo/b", "octo/d", "octo/e"]
        .iter()
        .map(|name| server.add_repo(name, &app_files()))
        .collect();
    server.add_org(
        "octo",
        &[
            ("octo/a", false),
            ("octo/b", false),
            ("octo/c", true),
            ("octo/d", false),
            ("octo/e", false),
        ],
    );
    (server, commits)
}

fn scanned_repositories(report: &serde_json::Value) -> Vec<String> {
    report["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["repository"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn an_organisation_is_listed_page_by_page_without_its_archived_repositories() {
    let (server, commits) = org_server();
    let output = scan(&server, &["-v", "--github-org", "octo", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        scanned_repositories(&report),
        ["octo/a", "octo/b", "octo/d", "octo/e"]
    );
    assert_eq!(report["repositories"][2]["commit"], commits[2].as_str());
    assert!(
        report["repositories"][0].get("ref").is_none(),
        "default branch"
    );
    assert_eq!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["ruleId"] == "FG-002")
            .count(),
        4
    );
    let err = stderr(&output);
    assert!(
        err.contains("organisation octo: 4 repositories to scan, 1 archived skipped"),
        "{err}"
    );
    // No progress bar when stderr is not a terminal.
    assert!(!err.contains("fetching repositories"), "{err}");
    let listing: Vec<Seen> = server
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with("/orgs/"))
        .collect();
    assert_eq!(
        listing.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        [
            "/orgs/octo/repos?per_page=100&type=all",
            "/orgs/octo/repos?per_page=100&type=all&page=2",
            "/orgs/octo/repos?per_page=100&type=all&page=3",
        ]
    );
    assert!(!server.seen().iter().any(|s| s.path.contains("/octo/c/")));

    // Unchanged: every page is a conditional request answered 304.
    server.clear();
    let output = scan(&server, &["--github-org", "octo", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|s| s.if_none_match.is_some() && s.status == 304),
        "{seen:#?}"
    );
    assert_eq!(
        seen.iter().filter(|s| s.path.starts_with("/orgs/")).count(),
        3
    );
}

#[test]
fn an_unreadable_repository_of_an_organisation_is_an_error_entry_and_the_rest_is_scanned() {
    let (server, _) = org_server();
    server
        .state
        .lock()
        .expect("state")
        .forbidden
        .insert("octo/b".to_owned());
    let local = support::repo(&[(".github/workflows/ci.yml", INJECTION)]);
    let output = scan(
        &server,
        &[
            "--github-org",
            "octo",
            local.path().to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 2, "errors exit 2: {}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        scanned_repositories(&report),
        ["octo/a", "octo/d", "octo/e"]
    );
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report:#}");
    assert_eq!(errors[0]["kind"], "repository");
    assert_eq!(errors[0]["path"], "octo/b");
    assert_eq!(errors[0]["reason"], "forbidden");
    assert!(
        errors[0]["message"]
            .as_str()
            .expect("message")
            .contains("403 Forbidden"),
        "{report:#}"
    );
    // Three repositories and the local directory.
    assert_eq!(report["summary"]["high"], 4, "{report:#}");

    // A repository named with --github still fails the scan as a whole.
    let output = scan(&server, &["--github", "octo/b", "--github-org", "octo"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("octo/b: GitHub refused access (403 Forbidden)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_organisation_with_nothing_to_scan_is_a_usage_error() {
    let server = FakeGithub::start("", Auth::Open);
    server.add_org("attic", &[("attic/old", true)]);
    let output = scan(&server, &["--github-org", "attic"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "organisation attic has no repository to scan (1 archived repository skipped)"
        ),
        "{}",
        stderr(&output)
    );
    let output = scan(&server, &["--github-org", "../attic"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`../attic` is not an organisation name"),
        "{}",
        stderr(&output)
    );
    assert!(server.seen().iter().all(|s| !s.path.contains("..")));
    let output = scan(&server, &["--github-org", "nobody"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("organisation nobody: repository or ref not found"),
        "{}",
        stderr(&output)
    );
}

fn cached_results(output: &std::process::Output) -> u64 {
    json(output)["summary"]["cachedResults"]
        .as_u64()
        .expect("summary.cachedResults")
}

#[test]
fn a_warm_rescan_runs_no_pack_until_the_commit_or_a_pack_option_changes() {
    let server = FakeGithub::start("", Auth::Open);
    let mut files = app_files();
    server.add_repo("octo/app", &files);
    let options_pack = support::test_pack("sluice-test-pack-options");
    let options_pack = options_pack.to_str().expect("UTF-8 path");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = |mode: &str| {
        let path = dir.path().join(format!("{mode}.yml"));
        std::fs::write(
            &path,
            format!("packs:\n  test-options:\n    options:\n      mode: {mode}\n"),
        )
        .expect("write config");
        path.to_str().expect("UTF-8 path").to_owned()
    };
    let (strict, lax) = (config("strict"), config("lax"));
    let run = |config: &str| {
        scan(
            &server,
            &[
                "-v",
                "--pack",
                options_pack,
                "--config",
                config,
                "--github",
                "octo/app",
                "--format",
                "json",
            ],
        )
    };
    let option_messages = |output: &std::process::Output| -> Vec<String> {
        json(output)["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["ruleId"] == "TPO-001")
            .map(|f| f["message"].as_str().expect("message").to_owned())
            .collect()
    };

    let cold = run(&strict);
    assert_eq!(code(&cold), 1, "{}", stderr(&cold));
    assert_eq!(cached_results(&cold), 0);
    // github-actions on the workflow, test-options on both YAML files: two pack runs.
    assert!(
        stderr(&cold).contains("result cache: 0 pack runs answered from the cache, 2 run"),
        "{}",
        stderr(&cold)
    );

    let warm = run(&strict);
    assert_eq!(code(&warm), 1, "{}", stderr(&warm));
    assert_eq!(cached_results(&warm), 2);
    assert!(
        stderr(&warm).contains("result cache: 2 pack runs answered from the cache, 0 run"),
        "{}",
        stderr(&warm)
    );
    assert_eq!(json(&cold)["findings"], json(&warm)["findings"]);

    // Another option value: that pack runs again, the other is still cached.
    let relaxed = run(&lax);
    assert_eq!(code(&relaxed), 1, "{}", stderr(&relaxed));
    assert_eq!(cached_results(&relaxed), 1);
    let messages = option_messages(&relaxed);
    assert!(
        !messages.is_empty() && messages.iter().all(|m| m.contains("mode=lax")),
        "{messages:?}"
    );

    // A push: a new commit, nothing cached for it.
    files.push(("docs/notes.yml", "a: 1\n"));
    server.add_repo("octo/app", &files);
    let pushed = run(&lax);
    assert_eq!(code(&pushed), 1, "{}", stderr(&pushed));
    assert_eq!(cached_results(&pushed), 0);
    assert_eq!(option_messages(&pushed).len(), 3, "the new file is scanned");
}
