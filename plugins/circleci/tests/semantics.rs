//! Severity, confidence and mitigation decisions the line-based fixtures cannot show.

use sluice_pack_circleci::Circleci;
use sluice_pack_sdk::testing;
use sluice_pack_sdk::{Confidence, FileErrorKind, Finding, Severity};

fn scan(content: &str) -> Vec<Finding> {
    let output = testing::scan::<Circleci>(&[(".circleci/config.yml", content)]);
    assert!(output.errors.is_empty(), "{:?}", output.errors);
    output.findings
}

fn of<'f>(findings: &'f [Finding], rule: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.rule_id == rule).collect()
}

const GATED: &str = "\
version: 2.1
jobs:
  deploy:
    docker: [{image: 'a@sha256:0000000000000000000000000000000000000000000000000000000000000000'}]
    steps:
      - checkout
      - run: ./deploy.sh << pipeline.git.branch >>
workflows:
  wf:
    jobs:
      - hold: {type: approval}
      - deploy:
          context: prod
          requires: [hold]
";

#[test]
fn approval_gate_lowers_and_is_recorded() {
    let findings = scan(GATED);
    let cc001 = of(&findings, "CC-001");
    assert_eq!(cc001.len(), 1);
    assert_eq!(cc001[0].severity, Severity::Low);
    assert_eq!(cc001[0].confidence, Confidence::Medium);
    assert_eq!(cc001[0].mitigations[0].kind, "approval-gate");
    let cc002 = of(&findings, "CC-002");
    assert_eq!(cc002.len(), 1);
    assert_eq!(cc002[0].severity, Severity::Medium);
    assert_eq!(cc002[0].span.start_line, 7);
}

#[test]
fn branch_filter_makes_it_info_not_silent() {
    let filtered = GATED.replace(
        "          requires: [hold]\n",
        "          filters: {branches: {only: [main, /^release-.*/]}}\n",
    );
    let findings = scan(&filtered);
    for rule in ["CC-001", "CC-002"] {
        let found = of(&findings, rule);
        assert_eq!(found.len(), 1, "{rule}");
        assert_eq!(found[0].severity, Severity::Info, "{rule}");
        assert_eq!(found[0].mitigations[0].kind, "branch-filter", "{rule}");
    }
}

#[test]
fn ignore_filter_on_a_required_job_excludes_downstream() {
    let config = GATED
        .replace(
            "      - hold: {type: approval}\n",
            "      - build:\n          filters: {branches: {ignore: /pull\\/.*/}}\n",
        )
        .replace("requires: [hold]", "requires: [build]")
        .replace(
            "jobs:\n  deploy:",
            "jobs:\n  build:\n    machine: true\n    steps: [checkout]\n  deploy:",
        );
    let findings = scan(&config);
    let cc002 = of(&findings, "CC-002");
    assert_eq!(cc002[0].severity, Severity::Info);
    assert!(
        cc002[0].mitigations[0]
            .description
            .contains("required job `build`")
    );
}

#[test]
fn scheduled_and_conditional_workflows_are_excluded() {
    let scheduled = GATED.replace(
        "  wf:\n    jobs:",
        "  wf:\n    triggers:\n      - schedule: {cron: '0 0 * * *', filters: {branches: {only: main}}}\n    jobs:",
    );
    let cc002 = scan(&scheduled);
    assert_eq!(
        of(&cc002, "CC-002")[0].mitigations[0].kind,
        "scheduled-workflow"
    );
    let conditional = GATED.replace(
        "  wf:\n    jobs:",
        "  wf:\n    when:\n      equal: [main, << pipeline.git.branch >>]\n    jobs:",
    );
    let cc002 = scan(&conditional);
    assert_eq!(of(&cc002, "CC-002")[0].severity, Severity::Info);
    assert_eq!(
        of(&cc002, "CC-002")[0].mitigations[0].kind,
        "workflow-condition"
    );
}

#[test]
fn command_used_by_two_jobs_is_reported_once_at_its_worst() {
    let config = "\
version: 2.1
commands:
  say:
    parameters:
      text: {type: string}
    steps:
      - run: echo << parameters.text >>
jobs:
  a:
    machine: true
    steps:
      - say: {text: hello}
  b:
    machine: true
    steps:
      - say: {text: << pipeline.parameters.msg >>}
  c:
    machine: true
    steps:
      - say: {text: << pipeline.git.branch >>}
workflows:
  wf:
    jobs: [a, b, c]
";
    let findings = scan(config);
    let cc002 = of(&findings, "CC-002");
    assert_eq!(cc002.len(), 1, "{cc002:#?}");
    assert_eq!(cc002[0].severity, Severity::High);
    assert_eq!(cc002[0].span.start_line, 7);
    assert!(
        cc002[0].message.contains("in command `say`"),
        "{}",
        cc002[0].message
    );
    assert_eq!(cc002[0].related.len(), 1);
    assert_eq!(cc002[0].related[0].span.start_line, 20);
    assert_eq!(
        cc002[0].related[0].message,
        "parameter `text` is bound to it here"
    );
}

#[test]
fn uninvoked_command_parameters_are_low_confidence() {
    let config = "\
version: 2.1
commands:
  run-it:
    parameters:
      script: {type: string}
      verbose: {type: boolean, default: false}
    steps:
      - run: << parameters.script >> << parameters.verbose >>
";
    let findings = scan(config);
    let cc002 = of(&findings, "CC-002");
    assert_eq!(cc002.len(), 1);
    assert_eq!(cc002[0].severity, Severity::Medium);
    assert_eq!(cc002[0].confidence, Confidence::Low);
}

#[test]
fn orb_severity_follows_how_much_floats() {
    let config = "\
version: 2.1
orbs:
  a: ns/a@volatile
  b: ns/b@3
  c: ns/c@3.1
  d: ns/d@3.1.4
  e: ns/e@dev:<< pipeline.git.revision >>
";
    let findings = scan(config);
    let severities: Vec<Severity> = of(&findings, "CC-003").iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Low
        ]
    );
    assert_eq!(
        of(&findings, "CC-003")[3].mitigations[0].kind,
        "own-dev-build"
    );
}

#[test]
fn invalid_yaml_is_a_parse_error_and_other_documents_are_skipped() {
    let output = testing::scan::<Circleci>(&[
        (".circleci/bad.yml", "jobs: [\n"),
        (".circleci/other.yml", "just: data\n"),
    ]);
    assert_eq!(output.errors.len(), 1);
    assert_eq!(output.errors[0].kind, FileErrorKind::Parse);
    assert!(output.findings.is_empty());
}

#[test]
fn self_hosted_severity_and_unknown_jobs() {
    let config = "\
version: 2.1
jobs:
  a:
    machine: true
    resource_class: acme/runner
    steps: [checkout]
  b:
    machine: true
    resource_class: acme/runner
    steps: [checkout]
workflows:
  wf:
    jobs: [a]
";
    let findings = scan(config);
    let cc009 = of(&findings, "CC-009");
    assert_eq!(cc009.len(), 2);
    assert_eq!(cc009[0].severity, Severity::High);
    assert_eq!(
        (cc009[1].severity, cc009[1].confidence),
        (Severity::Low, Confidence::Low)
    );
}

#[test]
fn when_step_requiring_a_branch_gates_the_runs_inside() {
    let config = "\
version: 2.1
jobs:
  tag:
    machine: true
    steps:
      - when:
          condition:
            equal: [main, << pipeline.git.branch >>]
          steps:
            - run: ./tag.sh << pipeline.git.branch >>
      - unless:
          condition:
            equal: [main, << pipeline.git.branch >>]
          steps:
            - run: ./preview.sh << pipeline.git.branch >>
workflows:
  wf:
    jobs: [tag]
";
    let findings = scan(config);
    let cc002 = of(&findings, "CC-002");
    assert_eq!(cc002.len(), 2);
    assert_eq!(cc002[0].severity, Severity::Info);
    assert_eq!(cc002[0].mitigations[0].kind, "step-condition");
    assert_eq!(cc002[1].severity, Severity::High);
    assert!(cc002[1].mitigations.is_empty());
}

#[test]
fn exponential_command_fan_out_stays_cheap() {
    let mut config = String::from(
        "version: 2.1\ncommands:\n  c0:\n    steps:\n      - run: echo << pipeline.git.branch >>\n",
    );
    for level in 1..30 {
        let below = level - 1;
        config.push_str(&format!(
            "  c{level}:\n    steps:\n      - c{below}\n      - c{below}\n      - c{below}\n"
        ));
    }
    config.push_str(
        "jobs:\n  j:\n    machine: true\n    steps: [c29]\nworkflows:\n  wf:\n    jobs: [j]\n",
    );
    let started = std::time::Instant::now();
    let findings = scan(&config);
    assert!(started.elapsed().as_secs() < 20);
    assert_eq!(of(&findings, "CC-002").len(), 1);
}

#[test]
fn parameter_gates_count_only_without_a_setup_configuration_beside() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/circleci/cc001-dynamic-config/.circleci");
    let setup = std::fs::read_to_string(dir.join("config.yml")).expect("fixture");
    let continued = std::fs::read_to_string(dir.join("continue.yml")).expect("fixture");
    let both = testing::scan::<Circleci>(&[
        (".circleci/config.yml", &setup),
        (".circleci/continue.yml", &continued),
    ]);
    let cc001 = of(&both.findings, "CC-001");
    assert_eq!(cc001.len(), 1);
    assert_eq!(cc001[0].severity, Severity::High);
    assert!(cc001[0].mitigations.is_empty());
    let alone = scan(&continued);
    let cc001 = of(&alone, "CC-001");
    assert_eq!(cc001[0].severity, Severity::Info);
    assert_eq!(cc001[0].mitigations[0].kind, "workflow-condition");
    // A setup configuration elsewhere does not continue into this directory.
    let elsewhere = testing::scan::<Circleci>(&[
        ("other/.circleci/config.yml", &setup),
        (".circleci/continue.yml", &continued),
    ]);
    assert_eq!(
        of(&elsewhere.findings, "CC-001")[0].severity,
        Severity::Info
    );
}

#[test]
fn text_shared_through_yaml_aliases_is_reported_once() {
    let config = "\
version: 2.1
base: &base
  - image: cimg/base:2024.01
jobs:
  a:
    docker: *base
    steps: [{run: make a}]
  b:
    docker: *base
    steps: [{run: make b}]
workflows:
  wf:
    jobs: [a, b]
";
    let findings = scan(config);
    let cc010 = of(&findings, "CC-010");
    assert_eq!(cc010.len(), 1, "{cc010:#?}");
    assert_eq!(cc010[0].span.start_line, 3);
    assert!(
        cc010[0]
            .properties
            .contains(&("places".to_owned(), "2".to_owned()))
    );
}

#[test]
fn workflows_that_exclude_webhooks_are_gated() {
    for condition in [
        "    when:\n      not:\n        equal: [webhook, << pipeline.trigger_source >>]\n",
        "    unless:\n      equal: [webhook, << pipeline.trigger_source >>]\n",
        "    when:\n      and:\n        - not: {equal: [webhook, << pipeline.trigger_source >>]}\n        - << pipeline.parameters.x >>\n",
    ] {
        let config = GATED.replace("  wf:\n    jobs:", &format!("  wf:\n{condition}    jobs:"));
        let findings = scan(&config);
        let cc002 = of(&findings, "CC-002");
        assert_eq!(cc002[0].severity, Severity::Info, "{condition}");
        assert_eq!(cc002[0].mitigations[0].kind, "workflow-condition");
    }
    let webhook_only = GATED.replace(
        "  wf:\n    jobs:",
        "  wf:\n    when:\n      equal: [webhook, << pipeline.trigger_source >>]\n    jobs:",
    );
    assert_eq!(
        of(&scan(&webhook_only), "CC-002")[0].severity,
        Severity::Medium
    );
}
