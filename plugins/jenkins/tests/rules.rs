//! Rule behaviour beyond the fixtures: exact positions, severities, mitigations, scoping and
//! parse errors.

use sluice_pack_jenkins::Jenkins;
use sluice_pack_sdk::testing;
use sluice_pack_sdk::{Confidence, FileErrorKind, Finding, Severity};

fn scan(source: &str) -> Vec<Finding> {
    let output = testing::scan::<Jenkins>(&[("Jenkinsfile", source)]);
    assert!(output.errors.is_empty(), "{:?}", output.errors);
    output.findings
}

fn of<'f>(findings: &'f [Finding], rule: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.rule_id == rule).collect()
}

#[test]
fn triple_quoted_script_finding_has_inner_line_and_column() {
    let source =
        "node {\n  sh \"\"\"\n    echo start\n      echo \"${env.CHANGE_TITLE}\"\n  \"\"\"\n}\n";
    let findings = scan(source);
    let found = of(&findings, "JK-002");
    assert_eq!(found.len(), 1, "{findings:#?}");
    let span = found[0].span;
    assert_eq!((span.start_line, span.start_column), (4, 13));
    assert_eq!(
        &source[span.start_byte as usize..span.end_byte as usize],
        "${env.CHANGE_TITLE}"
    );
}

#[test]
fn reevaluated_shell_variable_points_into_the_script() {
    let source = "node {\n  sh 'eval \"echo $CHANGE_TITLE\"'\n}\n";
    let findings = scan(source);
    let found = of(&findings, "JK-002");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].confidence, Confidence::Medium);
    let span = found[0].span;
    assert_eq!(
        &source[span.start_byte as usize..span.end_byte as usize],
        "$CHANGE_TITLE"
    );
}

#[test]
fn parse_errors_carry_positions_and_other_files_are_scanned() {
    let output = testing::scan::<Jenkins>(&[
        (
            "a/Jenkinsfile",
            "pipeline {\n  stages {\n    sh 'unterminated\n  }\n}\n",
        ),
        ("b/Jenkinsfile", "pipeline {\n  stages {\n}\n"),
        (
            "c/Jenkinsfile",
            "node { sh \"echo ${env.CHANGE_TITLE}\" }\n",
        ),
    ]);
    assert_eq!(output.errors.len(), 2, "{:?}", output.errors);
    let first = &output.errors[0];
    assert_eq!(first.kind, FileErrorKind::Parse);
    let span = first.span.expect("position");
    assert_eq!((span.start_line, span.start_column), (3, 8));
    let second = &output.errors[1];
    assert_eq!(second.span.map(|s| s.start_line), Some(1), "{second:?}");
    assert!(
        second.message.contains("never closed"),
        "{}",
        second.message
    );
    assert_eq!(of(&output.findings, "JK-002").len(), 1);
}

#[test]
fn exclusion_lowers_to_info_with_a_mitigation() {
    let findings = scan(
        "pipeline {\n agent { kubernetes { yaml 'x' } }\n stages {\n  stage('t') { when { changeRequest() }\n steps { sh 'make' } }\n  stage('d') {\n   when { not { changeRequest() } }\n   steps { withCredentials([string(credentialsId: 'k', variable: 'K')]) { sh './deploy.sh' } }\n  }\n }\n}\n",
    );
    let found = of(&findings, "JK-001");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].severity, Severity::Info);
    assert!(
        found[0]
            .mitigations
            .iter()
            .any(|m| m.kind == "change-requests-excluded"),
        "{:?}",
        found[0].mitigations
    );
}

#[test]
fn approval_lowers_one_level_and_is_recorded() {
    let findings = scan(
        "pipeline {\n agent { kubernetes { yaml 'x' } }\n stages {\n  stage('pr') {\n   when { changeRequest() }\n   input { message 'Build this PR?' }\n   environment { T = credentials('t') }\n   steps { sh 'make' }\n  }\n }\n}\n",
    );
    let found = of(&findings, "JK-001");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(found[0].mitigations.iter().any(|m| m.kind == "approval"));
}

#[test]
fn implicit_change_request_builds_are_medium() {
    // No gate on the stage, but the pipeline reads CHANGE_ID elsewhere.
    let findings = scan(
        "pipeline {\n agent { kubernetes { yaml 'x' } }\n environment { IS_PR = \"${env.CHANGE_ID != null}\" }\n stages {\n  stage('b') {\n   steps { withCredentials([string(credentialsId: 'k', variable: 'K')]) { sh 'make' } }\n  }\n }\n}\n",
    );
    let found = of(&findings, "JK-001");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(
        (found[0].severity, found[0].confidence),
        (Severity::Medium, Confidence::Medium)
    );
}

#[test]
fn no_change_request_evidence_means_no_jk001_or_jk009() {
    let findings = scan(
        "pipeline {\n agent any\n environment { T = credentials('t') }\n stages { stage('b') { steps { sh 'make' } } }\n}\n",
    );
    assert!(of(&findings, "JK-001").is_empty(), "{findings:#?}");
    assert!(of(&findings, "JK-009").is_empty(), "{findings:#?}");
}

#[test]
fn stage_agents_do_not_leak_into_other_stages() {
    let source = "pipeline {\n agent { label 'pipeline-default' }\n stages {\n  stage('pr') {\n   when { changeRequest() }\n   agent { kubernetes { yaml 'x' } }\n   steps { sh 'make' }\n  }\n  stage('lint') {\n   when { changeRequest() }\n   steps { sh 'make lint' }\n  }\n  stage('main') {\n   when { branch 'main' }\n   agent { label 'releaser' }\n   steps { sh 'make release' }\n  }\n }\n}\n";
    let findings = scan(source);
    let found = of(&findings, "JK-009");
    // The pipeline label serves only `lint` (High); `releaser` only `main` (Info).
    let summary: Vec<(u32, Severity)> = found
        .iter()
        .map(|f| (f.span.start_line, f.severity))
        .collect();
    assert_eq!(
        summary,
        [(2, Severity::High), (15, Severity::Info)],
        "{findings:#?}"
    );
    assert!(found[0].message.contains("`lint`"), "{}", found[0].message);
}

#[test]
fn change_request_only_source_in_excluded_scope_is_info() {
    let findings = scan(
        "node {\n  if (env.BRANCH_NAME == 'main') {\n    sh \"echo ${env.CHANGE_TITLE}\"\n  }\n  sh \"echo ${env.CHANGE_TITLE}\"\n}\n",
    );
    let found = of(&findings, "JK-002");
    let severities: Vec<Severity> = found.iter().map(|f| f.severity).collect();
    assert_eq!(severities, [Severity::Info, Severity::High]);
}

#[test]
fn library_list_reports_only_floating_entries() {
    let source = "@Library(['tools@1.4.2', 'notify', 'x@feature/y']) _\n";
    let findings = scan(source);
    let found = of(&findings, "JK-003");
    let texts: Vec<&str> = found
        .iter()
        .map(|f| &source[f.span.start_byte as usize..f.span.end_byte as usize])
        .collect();
    assert_eq!(texts, ["'notify'", "'x@feature/y'"]);
}

#[test]
fn fingerprints_do_not_depend_on_lines() {
    let body = "node('x') {\n  if (env.CHANGE_ID) { sh \"make ${env.CHANGE_BRANCH}\" }\n}\n";
    let a = scan(body);
    let b = scan(&format!("\n\n// moved\n{body}"));
    let keys = |f: &[Finding]| {
        let mut k: Vec<String> = f.iter().map(|f| f.fingerprint_key.clone()).collect();
        k.sort();
        k
    };
    assert!(!a.is_empty());
    assert_eq!(keys(&a), keys(&b));
}

#[test]
fn truncated_input_never_panics() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jenkins");
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("utf-8");
        for end in (0..text.len())
            .filter(|i| text.is_char_boundary(*i))
            .step_by(7)
        {
            let _ = testing::scan::<Jenkins>(&[("Jenkinsfile", &text[..end])]);
        }
    }
}

#[test]
fn methods_are_analysed_at_their_call_sites() {
    let source = "def publish(String what) {\n  withCredentials([string(credentialsId: 'npm', variable: 'T')]) {\n    sh \"npm publish ${what}\"\n  }\n}\n\
node('linux') {\n  if (env.CHANGE_ID) {\n    stage('pr') { publish(env.CHANGE_BRANCH) }\n  }\n  stage('main') { publish('x') }\n}\n";
    let findings = scan(source);
    let credentials = of(&findings, "JK-001");
    // One finding for the binding, from its most exposed call site.
    assert_eq!(credentials.len(), 1, "{findings:#?}");
    assert_eq!(credentials[0].severity, Severity::High);
    assert!(
        credentials[0].message.contains("stage `pr`"),
        "{}",
        credentials[0].message
    );
    // Recursion is bounded.
    let recursive = scan("def f() { f(); sh 'make' }\nnode { f() }\n");
    assert!(of(&recursive, "JK-001").is_empty());
}

#[test]
fn privileged_inside_container_is_an_agent_risk() {
    let source = "podTemplate {\n node(POD_LABEL) {\n  if (env.CHANGE_ID) {\n   docker.image('node:20').inside('-v /var/run/docker.sock:/var/run/docker.sock') {\n    sh 'npm ci'\n   }\n   docker.image('node:20').inside { sh 'npm test' }\n  }\n }\n}\n";
    let findings = scan(source);
    let found = of(&findings, "JK-009");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].span.start_line, 4);
    assert_eq!(found[0].severity, Severity::High);
}

#[test]
fn repeated_text_gets_distinct_fingerprints() {
    let findings = scan("node { sh \"echo ${env.CHANGE_TITLE}; echo ${env.CHANGE_TITLE}\" }\n");
    let keys: Vec<&str> = of(&findings, "JK-002")
        .iter()
        .map(|f| f.fingerprint_key.as_str())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
}

#[test]
fn arbitrary_text_never_panics() {
    // A fixed pseudo-random walk over Groovy's delicate characters, multi-byte ones included.
    const ALPHABET: &[&str] = &[
        "'",
        "\"",
        "'''",
        "\"\"\"",
        "$",
        "${",
        "}",
        "{",
        "(",
        ")",
        "[",
        "]",
        "\\",
        "\\u",
        "/",
        "/*",
        "*/",
        "//",
        "\n",
        " ",
        "sh ",
        "é",
        "€",
        "𝄞",
        "x",
        "env.CHANGE_TITLE",
        ":",
        ",",
        "$/",
        "/$",
        "->",
        "?",
        "=",
        "def ",
        "if ",
        "@Library(",
        "pipeline {",
        "node(",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..400 {
        let mut text = String::new();
        for _ in 0..40 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = usize::try_from(state % ALPHABET.len() as u64).expect("small");
            text.push_str(ALPHABET[index]);
        }
        let _ = testing::scan::<Jenkins>(&[("Jenkinsfile", &text)]);
    }
}

#[test]
fn fan_out_of_method_calls_stays_bounded() {
    // Ten methods each calling the next one five times: 5^9 call paths without a budget.
    let mut source = String::new();
    for level in 0..10 {
        source.push_str(&format!("def f{level}() {{\n"));
        if level < 9 {
            for _ in 0..5 {
                source.push_str(&format!("  f{}()\n", level + 1));
            }
        } else {
            source.push_str("  sh \"make ${env.CHANGE_BRANCH}\"\n");
        }
        source.push_str("}\n");
    }
    source.push_str("node { f0() }\n");
    let started = std::time::Instant::now();
    let findings = scan(&source);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(of(&findings, "JK-002").len(), 1);
}

#[test]
fn fork_guard_lowers_one_level() {
    let findings = scan(
        "pipeline {\n agent { kubernetes { yaml 'x' } }\n stages {\n  stage('pr') {\n   when { allOf { changeRequest(); expression { env.CHANGE_FORK == null } } }\n   environment { T = credentials('t') }\n   steps { sh 'make' }\n  }\n }\n}\n",
    );
    let found = of(&findings, "JK-001");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(found[0].mitigations.iter().any(|m| m.kind == "fork-guard"));
}

#[test]
fn binding_steps_without_credentials_are_not_bindings() {
    let findings = scan(
        "node('x') {\n  if (env.CHANGE_ID) {\n    withMaven(maven: 'M3') { sh 'mvn verify' }\n    docker.withRegistry('https://registry.example.com') { sh 'make' }\n    withMaven(mavenSettingsConfig: 'settings-with-token') { sh 'mvn deploy' }\n  }\n}\n",
    );
    let found = of(&findings, "JK-001");
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].span.start_line, 5);
    assert!(
        found[0].message.contains("`settings-with-token`"),
        "{}",
        found[0].message
    );
}

#[test]
fn overloaded_methods_are_all_analysed() {
    let findings = scan(
        "def build(a) { sh \"make ${env.CHANGE_TITLE}\" }\ndef build(a, b) { sh \"make ${env.CHANGE_BRANCH}\" }\nnode { build(1) }\n",
    );
    assert_eq!(of(&findings, "JK-002").len(), 2, "{findings:#?}");
}
