//! `sluice scan --github` through the real binary, against a fake GitHub REST API
//! (`support/fake_github.rs`) that this test starts on 127.0.0.1: commits (with ETags and 304s),
//! recursive and per-directory trees, base64 blobs, authentication failures, GitHub Enterprise's
//! `/api/v3` prefix. The fake server records every request, so the tests can say exactly what
//! was asked for.

#[path = "support/fake_github.rs"]
mod fake_github;
mod support;

use fake_github::{Auth, FakeGithub, STALL, Seen};
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
