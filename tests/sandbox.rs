//! The pack sandbox, driven through the real `sluice` binary with the hostile and broken rule
//! packs of `tests/packs/`. Whatever a pack does — spin, allocate, recurse, panic, flood, snoop,
//! lie about its rules or fail to load — the run must end normally with exit code 2, a typed
//! error entry naming that pack, and every other pack's findings intact.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// A workflow the built-in github-actions pack flags exactly once: `actions/checkout@v4` is not
/// pinned to a commit SHA (FG-003). `permissions: {}` keeps other rules quiet.
const WORKFLOW: &str = "\
name: ci
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
";

/// Where the workflow sits, relative to the repository root (what packs and reports see).
const WORKFLOW_PATH: &str = ".github/workflows/ci.yml";

/// The file the snoop pack tries to create (`tests/packs/snoop`).
const SNOOP_WRITE_TARGET: &str = "/tmp/sluice-snoop-probe-must-not-exist";

/// The host's cap on findings per pack call (`SandboxLimits::max_findings`).
const MAX_FINDINGS: usize = 10_000;

/// How many findings the flood pack returns when no file sets a count (`tests/packs/flood`).
const FLOOD_FINDINGS: usize = 1_000_000;

/// How many of the flood pack's findings carry a 100 KiB message.
const FLOOD_HUGE_MESSAGES: usize = 5;

/// The host cuts messages to 4096 bytes and appends a short marker.
const MAX_MESSAGE_BYTES: usize = 4200;

/// A temporary repository holding [`WORKFLOW`].
fn repository() -> TempDir {
    support::repo(&[(WORKFLOW_PATH, WORKFLOW)])
}

fn text(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// A finished `sluice scan --format json`.
struct Scan {
    output: Output,
    report: Value,
    elapsed: Duration,
}

/// Runs `sluice scan --format json` over `repo` with `packs` and `flags`.
fn scan(repo: &Path, packs: &[&Path], flags: &[&str]) -> Scan {
    let mut args = vec!["scan", "--format", "json"];
    for pack in packs {
        args.extend(["--pack", text(pack)]);
    }
    args.extend(flags);
    args.push(text(repo));
    let started = Instant::now();
    let output = support::run(&args);
    let elapsed = started.elapsed();
    // Before parsing: a crash (signal) must fail with the process's output, not a JSON error.
    let _ = support::code(&output);
    let report = support::json(&output);
    Scan {
        output,
        report,
        elapsed,
    }
}

impl Scan {
    fn code(&self) -> i32 {
        support::code(&self.output)
    }

    fn findings(&self) -> &[Value] {
        self.report["findings"]
            .as_array()
            .expect("the report has a findings array")
    }

    fn errors(&self) -> &[Value] {
        self.report["errors"]
            .as_array()
            .expect("the report has an errors array")
    }

    fn findings_of(&self, pack: &str) -> Vec<&Value> {
        self.findings()
            .iter()
            .filter(|f| f["pack"] == pack)
            .collect()
    }

    /// The one error entry of `pack` with `reason`; fails if there is none or several.
    fn pack_error(&self, pack: &str, reason: &str) -> &Value {
        let matching: Vec<&Value> = self
            .errors()
            .iter()
            .filter(|e| e["kind"] == "pack" && e["pack"] == pack && e["reason"] == reason)
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "expected one `{reason}` error for {pack}; report:\n{}",
            self.dump()
        );
        matching[0]
    }

    /// Every error entry must be a pack error of `pack`: a hostile pack costs nothing else.
    fn assert_only_errors_of(&self, pack: &str) {
        for error in self.errors() {
            assert!(
                error["kind"] == "pack" && error["pack"] == pack,
                "unexpected error besides those of {pack}: {error}\nreport:\n{}",
                self.dump()
            );
        }
    }

    /// Exit code 2, and the built-in pack's FG-003 on the workflow still reported.
    fn assert_contained(&self) {
        assert_eq!(
            self.code(),
            2,
            "errors must exit 2; report:\n{}",
            self.dump()
        );
        let builtin: Vec<&Value> = self
            .findings_of("github-actions")
            .into_iter()
            .filter(|f| f["ruleId"] == "FG-003")
            .collect();
        assert_eq!(
            builtin.len(),
            1,
            "the built-in FG-003 finding must stand; report:\n{}",
            self.dump()
        );
        assert_eq!(
            builtin[0]["path"]
                .as_str()
                .map(|p| p.ends_with(WORKFLOW_PATH)),
            Some(true)
        );
    }

    /// The echo pack's finding on the workflow, which must survive any other pack's failure.
    fn assert_echo_stands(&self) {
        let echo = self.findings_of("test-echo");
        assert_eq!(
            echo.len(),
            1,
            "the echo pack's finding must stand; report:\n{}",
            self.dump()
        );
        assert_eq!(echo[0]["ruleId"], "TPE-001");
        assert_eq!(echo[0]["message"], format!("echo saw {WORKFLOW_PATH}"));
        assert_eq!(echo[0]["startLine"], 1);
    }

    /// The report without huge arrays, for assertion messages.
    fn dump(&self) -> String {
        let mut report = self.report.clone();
        if let Some(findings) = report["findings"].as_array_mut()
            && findings.len() > 20
        {
            let total = findings.len();
            findings.truncate(20);
            findings.push(Value::String(format!("... {total} findings in all")));
        }
        format!(
            "{}\nstderr:\n{}",
            serde_json::to_string_pretty(&report).expect("a JSON value serializes"),
            support::stderr(&self.output)
        )
    }
}

fn message(entry: &Value) -> &str {
    entry["message"].as_str().expect("entries have a message")
}

/// A pack file that is not a test pack crate: `bytes` in a new temporary directory.
fn pack_file(name: &str, bytes: &[u8]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write the pack file");
    (dir, path)
}

/// A pack that fails at load time: an error entry naming the file, with `reason`; exit 2; the
/// built-in pack unaffected. Returns the error's message.
fn assert_refused(pack: &Path, reason: &str) -> String {
    let repo = repository();
    let scan = scan(repo.path(), &[pack], &[]);
    scan.assert_contained();
    scan.assert_only_errors_of(text(pack));
    let error = scan.pack_error(text(pack), reason);
    message(error).to_owned()
}

#[test]
fn well_behaved_pack_runs_beside_the_builtin_one() {
    // The control for every test below: with no hostile pack there is no error and the exit
    // code is 0 (`--fail-on never`: findings alone never fail), so the 2s below are caused by
    // the hostile packs.
    let repo = repository();
    let echo = support::test_pack("sluice-test-pack-echo");
    let scan = scan(repo.path(), &[&echo], &["--fail-on", "never"]);
    assert!(
        scan.errors().is_empty(),
        "no errors expected:\n{}",
        scan.dump()
    );
    assert_eq!(scan.code(), 0, "{}", scan.dump());
    scan.assert_echo_stands();
    let builtin = scan.findings_of("github-actions");
    assert!(
        builtin.iter().any(|f| f["ruleId"] == "FG-003"),
        "{}",
        scan.dump()
    );
}

#[test]
fn spinning_pack_is_stopped_at_its_deadline() {
    let repo = repository();
    let spin = support::test_pack("sluice-test-pack-spin");
    let echo = support::test_pack("sluice-test-pack-echo");
    let scan = scan(repo.path(), &[&spin, &echo], &["--pack-timeout", "1s"]);
    eprintln!(
        "spin with --pack-timeout 1s: whole run took {:?}",
        scan.elapsed
    );

    scan.assert_contained();
    scan.assert_echo_stands();
    scan.assert_only_errors_of("test-spin");
    let error = scan.pack_error("test-spin", "timeout");
    assert!(
        message(error).contains("time limit of 1s"),
        "the message names the limit: {error}"
    );
    assert!(scan.findings_of("test-spin").is_empty());
    // The pack ran for its whole budget, and the run ended soon after: the bound is generous
    // because it includes process start-up and, on a cold cache, compiling three packs.
    assert!(
        scan.elapsed >= Duration::from_secs(1),
        "stopped before its deadline: {:?}",
        scan.elapsed
    );
    assert!(
        scan.elapsed < Duration::from_secs(8),
        "not stopped at its deadline: {:?}",
        scan.elapsed
    );
}

#[test]
fn memory_bomb_is_stopped_at_its_memory_limit() {
    let repo = repository();
    let bomb = support::test_pack("sluice-test-pack-memory-bomb");
    let echo = support::test_pack("sluice-test-pack-echo");
    let scan = scan(repo.path(), &[&bomb, &echo], &["--pack-memory", "64MiB"]);
    eprintln!(
        "memory-bomb with --pack-memory 64MiB: whole run took {:?}",
        scan.elapsed
    );

    scan.assert_contained();
    scan.assert_echo_stands();
    scan.assert_only_errors_of("test-memory-bomb");
    let error = scan.pack_error("test-memory-bomb", "out-of-memory");
    assert!(
        message(error).contains("64 MiB"),
        "the message names the limit: {error}"
    );
}

#[test]
fn runaway_recursion_is_a_stack_overflow() {
    let repo = repository();
    let recursion = support::test_pack("sluice-test-pack-recursion");
    let echo = support::test_pack("sluice-test-pack-echo");
    let scan = scan(repo.path(), &[&recursion, &echo], &[]);

    scan.assert_contained();
    scan.assert_echo_stands();
    scan.assert_only_errors_of("test-recursion");
    scan.pack_error("test-recursion", "stack-overflow");
}

#[test]
fn panicking_pack_is_a_trap() {
    let repo = repository();
    let panic = support::test_pack("sluice-test-pack-panic");
    let echo = support::test_pack("sluice-test-pack-echo");
    let scan = scan(repo.path(), &[&panic, &echo], &[]);

    scan.assert_contained();
    scan.assert_echo_stands();
    scan.assert_only_errors_of("test-panic");
    let error = scan.pack_error("test-panic", "trap");
    // The guest's panic message, recovered from its (captured, size-capped) stderr.
    assert!(
        message(error).starts_with("pack crashed: panicked at"),
        "{error}"
    );
    assert!(
        message(error).contains("deliberate test panic: 1 files"),
        "{error}"
    );
}

/// Checks a flood scan: exactly the cap kept, the drop reported, long messages cut.
fn assert_flood_capped(scan: &Scan, returned: usize) {
    scan.assert_contained();
    scan.assert_only_errors_of("test-flood");
    let error = scan.pack_error("test-flood", "invalid-output");
    assert!(
        message(error).contains(&returned.to_string())
            && message(error).contains(&MAX_FINDINGS.to_string()),
        "the error says how many findings came and how many were kept: {error}"
    );
    let kept = scan.findings_of("test-flood");
    assert_eq!(kept.len(), MAX_FINDINGS, "the host keeps exactly its cap");
    for finding in scan.findings() {
        assert!(
            message(finding).len() <= MAX_MESSAGE_BYTES,
            "a {}-byte message was not cut",
            message(finding).len()
        );
    }
    // The huge messages come first, so they are kept: cut on a character boundary (the report
    // parsed as JSON, so it is valid UTF-8) and marked.
    let cut: Vec<&str> = kept
        .iter()
        .map(|f| message(f))
        .filter(|m| m.starts_with("xé"))
        .collect();
    assert_eq!(cut.len(), FLOOD_HUGE_MESSAGES);
    for message in cut {
        assert!(
            message.len() > 4000,
            "cut too short: {} bytes",
            message.len()
        );
        assert!(
            message.ends_with("[truncated]"),
            "the cut is marked: …{}",
            &message[4000..]
        );
    }
}

#[test]
fn flood_of_findings_is_capped_and_long_messages_are_cut() {
    // Ten times the cap, within what the host can take in from one call.
    let repo = repository();
    std::fs::write(
        repo.path().join("flood.yml"),
        "# sluice-test-flood: 100000\n",
    )
    .expect("write the flood directive");
    let flood = support::test_pack("sluice-test-pack-flood");
    let scan = scan(repo.path(), &[&flood], &[]);
    eprintln!(
        "flood of 100000 findings: whole run took {:?}",
        scan.elapsed
    );
    assert_flood_capped(&scan, 100_000);
}

#[test]
fn flood_over_the_output_budget_is_refused_before_the_host_allocates_it() {
    // A million findings need more guest memory than the default limit to build (the pack
    // would be stopped as out-of-memory first), so the limit is raised. Their encoded size is
    // over the host's per-call output budget (64 MiB): wasmtime stops copying them in and the
    // whole result is refused, instead of the host allocating whatever a pack returns.
    let repo = repository();
    let flood = support::test_pack("sluice-test-pack-flood");
    let scan = scan(repo.path(), &[&flood], &["--pack-memory", "1GiB"]);
    eprintln!(
        "flood of {FLOOD_FINDINGS} findings: whole run took {:?}",
        scan.elapsed
    );
    scan.assert_contained();
    scan.assert_only_errors_of("test-flood");
    let error = scan.pack_error("test-flood", "output-too-large");
    assert!(message(error).contains("64 MiB"), "{error}");
    assert!(scan.findings_of("test-flood").is_empty());
}

#[test]
fn snooping_pack_sees_no_host_files_environment_or_arguments() {
    // A previous broken run may have left the file; it must not exist before the scan.
    match std::fs::remove_file(SNOOP_WRITE_TARGET) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove {SNOOP_WRITE_TARGET}: {e}"),
    }
    let repo = repository();
    let snoop = support::test_pack("sluice-test-pack-snoop");
    let scan = scan(repo.path(), &[&snoop], &[]);

    // The snoop itself is well-behaved: its findings are the probes' results.
    assert!(scan.errors().is_empty(), "{}", scan.dump());
    let probes: Vec<&str> = scan
        .findings_of("test-snoop")
        .into_iter()
        .map(message)
        .collect();
    let probe = |name: &str| -> &str {
        let prefix = format!("probe={name} result=");
        let matching: Vec<&str> = probes
            .iter()
            .filter_map(|m| m.strip_prefix(prefix.as_str()))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "one result for probe {name} in {probes:#?}"
        );
        matching[0]
    };
    let is_error = |result: &str| result.starts_with("error: ");
    let is_empty = |result: &str| result.starts_with("ok: count=0");

    let passwd = probe("/etc/passwd");
    assert!(is_error(passwd), "/etc/passwd was readable: {passwd}");
    let root = probe("read-dir:/");
    assert!(is_error(root) || is_empty(root), "`/` was listable: {root}");
    let cwd = probe("read-dir:.");
    assert!(is_error(cwd) || is_empty(cwd), "`.` was listable: {cwd}");
    let vars = probe("env-vars");
    assert!(is_empty(vars), "the environment leaked: {vars}");
    let home = probe("env:HOME");
    assert!(is_error(home), "HOME leaked: {home}");
    let args = probe("args");
    assert!(is_empty(args), "the command line leaked: {args}");
    let write = probe("write");
    assert!(is_error(write), "the pack wrote a file: {write}");
    assert!(
        !Path::new(SNOOP_WRITE_TARGET).exists(),
        "{SNOOP_WRITE_TARGET} was created"
    );
    // The working directory the guest believes in must not be the host's.
    let current_dir = probe("current-dir");
    for host_path in [support::repo_root(), repo.path().to_owned()] {
        assert!(
            !current_dir.contains(text(&host_path)),
            "the host's directory leaked: {current_dir}"
        );
    }
    assert_eq!(probes.len(), 8, "one finding per probe: {probes:#?}");
    for message in &probes {
        assert!(
            !message.contains("root:"),
            "host file content leaked: {message}"
        );
    }
}

#[test]
fn findings_of_undeclared_rules_are_dropped_and_reported() {
    let repo = repository();
    let undeclared = support::test_pack("sluice-test-pack-undeclared");
    let scan = scan(repo.path(), &[&undeclared], &[]);

    scan.assert_contained();
    scan.assert_only_errors_of("test-undeclared");
    let kept = scan.findings_of("test-undeclared");
    assert_eq!(
        kept.len(),
        1,
        "only the declared finding is kept: {kept:#?}"
    );
    assert_eq!(kept[0]["ruleId"], "TPU-001");
    assert!(
        scan.findings().iter().all(|f| f["ruleId"] != "TPU-999"),
        "the undeclared finding must not reach the report"
    );
    let error = scan.pack_error("test-undeclared", "invalid-output");
    assert!(
        message(error).contains("TPU-999"),
        "the error names the rule: {error}"
    );
}

#[test]
fn pack_returning_an_error_is_reported_as_failed() {
    let repo = repository();
    let failing = support::test_pack("sluice-test-pack-failing");
    let echo = support::test_pack("sluice-test-pack-echo");
    let scan = scan(repo.path(), &[&failing, &echo], &[]);

    scan.assert_contained();
    scan.assert_echo_stands();
    scan.assert_only_errors_of("test-failing");
    let error = scan.pack_error("test-failing", "pack-failed");
    assert!(message(error).contains("deliberate failure"), "{error}");
}

#[test]
fn duplicate_rule_ids_are_invalid_info() {
    let pack = support::test_pack("sluice-test-pack-bad-info");
    let message = assert_refused(&pack, "invalid-info");
    assert!(
        message.contains("TPB-001") && message.contains("twice"),
        "{message}"
    );
}

#[test]
fn builtin_rule_prefix_is_reserved() {
    let pack = support::test_pack("sluice-test-pack-fg-prefix");
    let message = assert_refused(&pack, "reserved-prefix");
    assert!(
        message.contains("FG-900") && message.contains("github-actions"),
        "the error names the rule and the owner: {message}"
    );
}

#[test]
fn other_interface_version_is_an_interface_mismatch() {
    let pack = support::test_pack("sluice-test-pack-other-wit");
    let message = assert_refused(&pack, "interface-mismatch");
    assert!(
        message.contains("sluice:pack/rules@0.2.0"),
        "the error names the version found: {message}"
    );
    assert!(
        message.contains("sluice:pack/rules@0.1"),
        "the error names the supported version: {message}"
    );
}

#[test]
fn pack_needing_sockets_is_a_forbidden_import() {
    let pack = support::test_pack("sluice-test-pack-net");
    let message = assert_refused(&pack, "forbidden-import");
    assert!(
        message.contains("wasi:sockets"),
        "the error names the capability: {message}"
    );
}

#[test]
fn garbage_bytes_are_an_invalid_component() {
    // xorshift64: deterministic, so a failure reproduces with the same bytes.
    let mut state: u64 = 0x5eed_1234_abcd_ef01;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let (_dir, pack) = pack_file("garbage.wasm", &bytes);
    assert_refused(&pack, "invalid-component");
}

#[test]
fn empty_file_is_an_invalid_component() {
    let (_dir, pack) = pack_file("empty.wasm", &[]);
    assert_refused(&pack, "invalid-component");
}

#[test]
fn core_module_is_not_a_pack() {
    // The smallest valid core module: magic and version 1, no sections. Valid wasm, but not a
    // component, let alone one exporting `sluice:pack/rules`.
    let (_dir, pack) = pack_file("core.wasm", b"\0asm\x01\0\0\0");
    let repo = repository();
    let scan = scan(repo.path(), &[&pack], &[]);
    scan.assert_contained();
    scan.assert_only_errors_of(text(&pack));
    let errors = scan.errors();
    assert_eq!(errors.len(), 1, "{}", scan.dump());
    assert!(
        errors[0]["reason"] == "invalid-component" || errors[0]["reason"] == "not-a-pack",
        "{}",
        errors[0]
    );
}

#[test]
fn missing_pack_file_is_a_usage_error() {
    let repo = repository();
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let missing = dir.path().join("missing.wasm");
    let output = support::run(&[
        "scan",
        "--format",
        "json",
        "--pack",
        text(&missing),
        text(repo.path()),
    ]);
    assert_eq!(support::code(&output), 2);
    let stderr = support::stderr(&output);
    assert!(
        stderr.contains("cannot read pack file") && stderr.contains(text(&missing)),
        "stderr names the file and the problem: {stderr}"
    );
    // No report at all: a partial report could be mistaken for a complete one.
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        support::stdout(&output)
    );
}

#[test]
fn same_pack_twice_is_a_duplicate() {
    let repo = repository();
    let panic = support::test_pack("sluice-test-pack-panic");
    let scan = scan(repo.path(), &[&panic, &panic], &[]);

    scan.assert_contained();
    // The first copy is registered and runs (and crashes); the second is refused.
    scan.pack_error("test-panic", "trap");
    let duplicate = scan.pack_error(text(&panic), "duplicate-pack");
    assert!(message(duplicate).contains("test-panic"), "{duplicate}");
    assert_eq!(scan.errors().len(), 2, "{}", scan.dump());
}

#[test]
fn packs_lists_a_loaded_pack_with_its_source() {
    let echo = support::test_pack("sluice-test-pack-echo");
    let output = support::run(&["packs", "--pack", text(&echo)]);
    assert_eq!(support::code(&output), 0, "{}", support::stderr(&output));
    let stdout = support::stdout(&output);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("test-echo "))
        .unwrap_or_else(|| panic!("test-echo is listed:\n{stdout}"));
    assert!(
        line.ends_with(text(&echo)),
        "the source is the file: {line}"
    );
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("github-actions ")),
        "the built-in pack is still listed:\n{stdout}"
    );
}

#[test]
fn rules_lists_a_loaded_packs_rules() {
    let echo = support::test_pack("sluice-test-pack-echo");
    let output = support::run(&["rules", "--pack", text(&echo)]);
    assert_eq!(support::code(&output), 0, "{}", support::stderr(&output));
    let stdout = support::stdout(&output);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("TPE-001 "))
        .unwrap_or_else(|| panic!("TPE-001 is listed:\n{stdout}"));
    assert!(
        line.contains("test-echo"),
        "the rule's pack is named: {line}"
    );
    assert!(
        stdout.lines().any(|line| line.starts_with("FG-003 ")),
        "the built-in rules are still listed:\n{stdout}"
    );
}
