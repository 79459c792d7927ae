//! Cross-file analysis: local composite actions and local reusable workflows are followed,
//! and findings point at both ends of the chain.

use sluice_pack_github_actions::GithubActions;
use sluice_pack_sdk::{Finding, ScanOutput, Severity, testing};

const BUILD_ACTION: &str = ".github/actions/build/action.yml";
const WORKFLOW: &str = ".github/workflows/ci.yml";

fn scan(files: &[(&str, &str)]) -> ScanOutput {
    testing::scan::<GithubActions>(files)
}

fn rule<'o>(output: &'o ScanOutput, id: &str) -> Vec<&'o Finding> {
    output.findings.iter().filter(|f| f.rule_id == id).collect()
}

/// 1-based line of the first line of `content` containing `needle`.
fn line_of(content: &str, needle: &str) -> u32 {
    let index = content
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in content"));
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn has_related(finding: &Finding, path: &str, line: u32) -> bool {
    finding
        .related
        .iter()
        .any(|r| r.path == path && r.span.start_line == line)
}

const PWN_WORKFLOW: &str = "\
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          path: pr
      - uses: ./.github/actions/build
";

const NPM_ACTION: &str = "\
name: build
runs:
  using: composite
  steps:
    - run: echo building
      shell: bash
    - run: npm ci
      shell: bash
      working-directory: pr
";

const ECHO_ACTION: &str = "\
name: build
runs:
  using: composite
  steps:
    - run: echo building
      shell: bash
";

#[test]
fn fg001_follows_a_local_composite_action() {
    let output = scan(&[(WORKFLOW, PWN_WORKFLOW), (BUILD_ACTION, NPM_ACTION)]);
    let found = rule(&output, "FG-001");
    assert_eq!(found.len(), 1, "{found:#?}");
    let finding = found[0];
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.path, WORKFLOW);
    assert_eq!(
        finding.span.start_line,
        line_of(PWN_WORKFLOW, "ref: ${{"),
        "{finding:#?}"
    );
    assert!(
        has_related(finding, BUILD_ACTION, line_of(NPM_ACTION, "npm ci")),
        "{finding:#?}"
    );
    assert!(
        has_related(
            finding,
            WORKFLOW,
            line_of(PWN_WORKFLOW, "./.github/actions/build")
        ),
        "{finding:#?}"
    );
    assert!(finding.message.contains("npm ci"), "{}", finding.message);
}

#[test]
fn fg001_local_action_with_trusted_commands_is_safe() {
    let output = scan(&[(WORKFLOW, PWN_WORKFLOW), (BUILD_ACTION, ECHO_ACTION)]);
    assert!(rule(&output, "FG-001").is_empty(), "{output:#?}");
}

#[test]
fn fg001_single_file_behaviour_is_unchanged() {
    // Without the action in the request, the fork checkout in `pr/` is followed by a trusted
    // local action: nothing to report, exactly as before.
    let output = scan(&[(WORKFLOW, PWN_WORKFLOW)]);
    assert!(rule(&output, "FG-001").is_empty(), "{output:#?}");
    assert!(output.errors.is_empty());
}

const ISSUE_WORKFLOW: &str = "\
on: issues
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/greet
        with:
          title: ${{ github.event.issue.title }}
";

const GREET_ACTION_PATH: &str = ".github/actions/greet/action.yml";

const GREET_ACTION: &str = "\
name: greet
inputs:
  title:
    description: the title
runs:
  using: composite
  steps:
    - name: greet
      run: |
        echo \"Thanks for ${{ inputs.title }}\"
      shell: bash
";

const GREET_ACTION_SAFE: &str = "\
name: greet
inputs:
  title:
    description: the title
runs:
  using: composite
  steps:
    - name: greet
      env:
        TITLE: ${{ inputs.title }}
      run: echo \"Thanks for $TITLE\"
      shell: bash
";

fn high_fg002_in<'o>(output: &'o ScanOutput, path: &str) -> Vec<&'o Finding> {
    rule(output, "FG-002")
        .into_iter()
        .filter(|f| f.path == path && f.severity == Severity::High)
        .collect()
}

#[test]
fn fg002_follows_inputs_into_a_local_composite_action() {
    let output = scan(&[
        (WORKFLOW, ISSUE_WORKFLOW),
        (GREET_ACTION_PATH, GREET_ACTION),
    ]);
    let found = high_fg002_in(&output, GREET_ACTION_PATH);
    assert_eq!(found.len(), 1, "{output:#?}");
    let finding = found[0];
    assert_eq!(
        finding.span.start_line,
        line_of(GREET_ACTION, "Thanks for ${{ inputs.title"),
        "{finding:#?}"
    );
    assert!(
        has_related(
            finding,
            WORKFLOW,
            line_of(ISSUE_WORKFLOW, "./.github/actions/greet")
        ),
        "{finding:#?}"
    );
    assert!(finding.message.contains("github.event.issue.title"));
    // The action's own Medium finding for `${{ inputs.title }}` gives way to the High one: one
    // finding per expression.
    let at_expression: Vec<&Finding> = rule(&output, "FG-002")
        .into_iter()
        .filter(|f| f.path == GREET_ACTION_PATH && f.span == finding.span)
        .collect();
    assert_eq!(at_expression.len(), 1, "{at_expression:#?}");
}

#[test]
fn fg002_fingerprint_is_line_independent() {
    let shifted = format!("# a comment\n\n{ISSUE_WORKFLOW}");
    let shifted_action = format!("# a comment\n{GREET_ACTION}");
    let a = scan(&[
        (WORKFLOW, ISSUE_WORKFLOW),
        (GREET_ACTION_PATH, GREET_ACTION),
    ]);
    let b = scan(&[
        (WORKFLOW, shifted.as_str()),
        (GREET_ACTION_PATH, shifted_action.as_str()),
    ]);
    let key = |o: &ScanOutput| {
        high_fg002_in(o, GREET_ACTION_PATH)
            .first()
            .map(|f| f.fingerprint_key.clone())
    };
    assert!(key(&a).is_some());
    assert_eq!(key(&a), key(&b));
}

#[test]
fn fg002_safe_twins() {
    // The action passes the input through an environment variable.
    let output = scan(&[
        (WORKFLOW, ISSUE_WORKFLOW),
        (GREET_ACTION_PATH, GREET_ACTION_SAFE),
    ]);
    assert!(
        high_fg002_in(&output, GREET_ACTION_PATH).is_empty(),
        "{output:#?}"
    );
    // The caller passes trusted text.
    let trusted = ISSUE_WORKFLOW.replace("${{ github.event.issue.title }}", "${{ github.sha }}");
    let output = scan(&[
        (WORKFLOW, trusted.as_str()),
        (GREET_ACTION_PATH, GREET_ACTION),
    ]);
    assert!(
        high_fg002_in(&output, GREET_ACTION_PATH).is_empty(),
        "{output:#?}"
    );
    // The action is not in the request: nothing to follow, no error.
    let output = scan(&[(WORKFLOW, ISSUE_WORKFLOW)]);
    assert!(rule(&output, "FG-002").is_empty(), "{output:#?}");
    assert!(output.errors.is_empty());
}

#[test]
fn nested_and_cyclic_local_actions() {
    let outer = "\
name: outer
inputs:
  title:
    description: t
runs:
  using: composite
  steps:
    - uses: ./.github/actions/inner
      with:
        text: ${{ inputs.title }}
";
    let inner = "\
name: inner
inputs:
  text:
    description: t
runs:
  using: composite
  steps:
    - uses: ./.github/actions/greet
      with:
        text: ${{ inputs.text }}
    - run: echo ${{ inputs.text }}
      shell: bash
";
    // `greet` calls `inner` again: a cycle.
    let cyclic = "\
name: greet
runs:
  using: composite
  steps:
    - uses: ./.github/actions/inner
      with:
        text: ${{ inputs.title }}
";
    let output = scan(&[
        (WORKFLOW, ISSUE_WORKFLOW),
        (GREET_ACTION_PATH, cyclic),
        (".github/actions/inner/action.yml", inner),
        (".github/actions/outer/action.yml", outer),
    ]);
    let found = high_fg002_in(&output, ".github/actions/inner/action.yml");
    assert!(!found.is_empty(), "{output:#?}");
    let finding = found[0];
    assert_eq!(
        finding.span.start_line,
        line_of(inner, "echo ${{ inputs.text")
    );
    assert!(has_related(
        finding,
        WORKFLOW,
        line_of(ISSUE_WORKFLOW, "./.github/actions/greet")
    ));
    assert!(has_related(
        finding,
        GREET_ACTION_PATH,
        line_of(cyclic, "./.github/actions/inner")
    ));
}

const REUSABLE: &str = ".github/workflows/reusable.yml";

const COMMENT_CALLER: &str = "\
on: issue_comment
jobs:
  call:
    uses: ./.github/workflows/reusable.yml
    with:
      body: ${{ github.event.comment.body }}
";

const REUSABLE_ECHO: &str = "\
on:
  workflow_call:
    inputs:
      body:
        type: string
jobs:
  reply:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"${{ inputs.body }}\"
";

#[test]
fn fg002_follows_inputs_into_a_local_reusable_workflow() {
    let output = scan(&[(WORKFLOW, COMMENT_CALLER), (REUSABLE, REUSABLE_ECHO)]);
    let found = high_fg002_in(&output, REUSABLE);
    assert_eq!(found.len(), 1, "{output:#?}");
    let finding = found[0];
    assert_eq!(
        finding.span.start_line,
        line_of(REUSABLE_ECHO, "echo \"${{ inputs.body")
    );
    assert!(has_related(
        finding,
        WORKFLOW,
        line_of(COMMENT_CALLER, "uses: ./.github")
    ));
    // Called with trusted values: nothing attacker-controlled flows in.
    let trusted = COMMENT_CALLER.replace("${{ github.event.comment.body }}", "hello");
    let output = scan(&[(WORKFLOW, trusted.as_str()), (REUSABLE, REUSABLE_ECHO)]);
    assert!(high_fg002_in(&output, REUSABLE).is_empty(), "{output:#?}");
}

const PRT_CALLER: &str = "\
on: pull_request_target
jobs:
  call:
    uses: ./.github/workflows/reusable.yml
";

const REUSABLE_BUILD: &str = "\
on: workflow_call
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: npm install
";

#[test]
fn fg001_reusable_workflow_runs_with_its_callers_triggers() {
    // Alone, a `workflow_call` workflow is not known to be privileged.
    let alone = scan(&[(REUSABLE, REUSABLE_BUILD)]);
    assert!(rule(&alone, "FG-001").is_empty(), "{alone:#?}");

    let output = scan(&[(WORKFLOW, PRT_CALLER), (REUSABLE, REUSABLE_BUILD)]);
    let found = rule(&output, "FG-001");
    assert_eq!(found.len(), 1, "{output:#?}");
    let finding = found[0];
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.path, REUSABLE);
    assert_eq!(finding.span.start_line, line_of(REUSABLE_BUILD, "ref: ${{"));
    assert!(
        has_related(finding, WORKFLOW, line_of(PRT_CALLER, "uses: ./.github")),
        "{finding:#?}"
    );

    // An unprivileged caller lends nothing.
    let safe = PRT_CALLER.replace("pull_request_target", "pull_request");
    let output = scan(&[(WORKFLOW, safe.as_str()), (REUSABLE, REUSABLE_BUILD)]);
    assert!(rule(&output, "FG-001").is_empty(), "{output:#?}");
}

const LABEL_GATED: &str = "\
on:
  pull_request_target:
    types: [labeled]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: npm install
      - run: echo \"${{ github.event.pull_request.title }}\"
";

fn correlated(finding: &Finding) -> bool {
    finding
        .properties
        .iter()
        .any(|(k, v)| k == "correlated" && v == "FG-002")
}

#[test]
fn correlation_raises_a_real_pwn_request_with_injection_in_the_same_job() {
    let output = scan(&[(WORKFLOW, LABEL_GATED)]);
    let pwn = rule(&output, "FG-001");
    assert_eq!(pwn.len(), 1, "{output:#?}");
    assert_eq!(pwn[0].severity, Severity::Critical, "{:#?}", pwn[0]);
    assert!(correlated(pwn[0]));
    assert!(pwn[0].message.contains("Ultralytics"), "{}", pwn[0].message);
    assert!(has_related(
        pwn[0],
        WORKFLOW,
        line_of(LABEL_GATED, "pull_request.title")
    ));
    // The injection itself is kept.
    assert_eq!(high_fg002_in(&output, WORKFLOW).len(), 1, "{output:#?}");

    // Without the injection the label gate keeps it at High.
    let plain = LABEL_GATED.replace("${{ github.event.pull_request.title }}", "done");
    let output = scan(&[(WORKFLOW, plain.as_str())]);
    let pwn = rule(&output, "FG-001");
    assert_eq!(pwn.len(), 1, "{output:#?}");
    assert_eq!(pwn[0].severity, Severity::High);
    assert!(!correlated(pwn[0]));
}

#[test]
fn correlation_never_merges_a_mitigated_pwn_request_or_another_job() {
    let guarded = LABEL_GATED.replace(
        "    runs-on: ubuntu-latest\n",
        "    runs-on: ubuntu-latest\n    if: github.event.pull_request.head.repo.full_name == github.repository\n",
    );
    let output = scan(&[(WORKFLOW, guarded.as_str())]);
    let pwn = rule(&output, "FG-001");
    assert_eq!(pwn.len(), 1, "{output:#?}");
    assert_eq!(pwn[0].severity, Severity::Info);
    assert!(!correlated(pwn[0]));

    let split = LABEL_GATED.replace(
        "      - run: echo",
        "  other:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo",
    );
    let output = scan(&[(WORKFLOW, split.as_str())]);
    let pwn = rule(&output, "FG-001");
    assert_eq!(pwn.len(), 1, "{output:#?}");
    assert_eq!(pwn[0].severity, Severity::High);
    assert!(!correlated(pwn[0]));
    assert_eq!(high_fg002_in(&output, WORKFLOW).len(), 1, "{output:#?}");
}

#[test]
fn correlation_follows_a_local_action_chain() {
    let workflow = "\
on:
  pull_request_target:
    types: [labeled]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: npm install
      - uses: ./.github/actions/greet
        with:
          title: ${{ github.event.pull_request.title }}
";
    let output = scan(&[(WORKFLOW, workflow), (GREET_ACTION_PATH, GREET_ACTION)]);
    let pwn = rule(&output, "FG-001");
    assert_eq!(pwn.len(), 1, "{output:#?}");
    assert_eq!(pwn[0].severity, Severity::Critical);
    assert!(correlated(pwn[0]));
    assert!(has_related(
        pwn[0],
        GREET_ACTION_PATH,
        line_of(GREET_ACTION, "Thanks for ${{ inputs.title")
    ));
    assert_eq!(high_fg002_in(&output, GREET_ACTION_PATH).len(), 1);
}

#[test]
fn fg001_root_checkout_then_local_action_points_into_the_action() {
    let workflow = PWN_WORKFLOW.replace("          path: pr\n", "");
    let action = NPM_ACTION.replace("      working-directory: pr\n", "");
    let output = scan(&[
        (WORKFLOW, workflow.as_str()),
        (BUILD_ACTION, action.as_str()),
    ]);
    let found = rule(&output, "FG-001");
    assert_eq!(found.len(), 1, "{output:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(has_related(
        found[0],
        BUILD_ACTION,
        line_of(&action, "npm ci")
    ));
    assert!(has_related(
        found[0],
        WORKFLOW,
        line_of(&workflow, "./.github/actions/build")
    ));
}

#[test]
fn hostile_fan_out_and_self_calls_are_bounded() {
    // Five levels of actions, each calling the next one 60 times: 60^4 paths unbounded.
    let mut files: Vec<(String, String)> = Vec::new();
    for level in 0..5 {
        let mut action = String::from("name: a\nruns:\n  using: composite\n  steps:\n");
        for _ in 0..60 {
            action.push_str(&format!(
                "    - uses: ./a{}\n      with:\n        t: ${{{{ inputs.t }}}}\n",
                level + 1
            ));
        }
        action.push_str("    - run: echo ${{ inputs.t }}\n      shell: bash\n");
        files.push((format!("a{level}/action.yml"), action));
    }
    files.push((
        WORKFLOW.to_owned(),
        ISSUE_WORKFLOW
            .replace("./.github/actions/greet", "./a0")
            .replace("title:", "t:"),
    ));
    // A reusable workflow that calls itself.
    files.push((
        REUSABLE.to_owned(),
        "on:\n  workflow_call:\n  pull_request_target:\njobs:\n  again:\n    uses: ./.github/workflows/reusable.yml\n    with:\n      body: ${{ github.event.pull_request.title }}\n".to_owned(),
    ));
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let output = scan(&borrowed);
    assert!(!high_fg002_in(&output, "a0/action.yml").is_empty());
    assert!(output.findings.len() < 20_000, "{}", output.findings.len());
}

#[test]
fn vendored_projects_resolve_from_their_own_root() {
    let output = scan(&[
        ("vendor/app/.github/workflows/ci.yml", ISSUE_WORKFLOW),
        ("vendor/app/.github/actions/greet/action.yml", GREET_ACTION),
        // Same path at the top: must not be picked for the vendored workflow.
        (GREET_ACTION_PATH, GREET_ACTION_SAFE),
    ]);
    let found = high_fg002_in(&output, "vendor/app/.github/actions/greet/action.yml");
    assert_eq!(found.len(), 1, "{output:#?}");
    assert!(has_related(
        found[0],
        "vendor/app/.github/workflows/ci.yml",
        line_of(ISSUE_WORKFLOW, "./.github/actions/greet")
    ));
}

#[test]
fn fg001_privilege_passes_through_nested_reusable_workflows() {
    let middle = "\
on: workflow_call
jobs:
  inner:
    uses: ./.github/workflows/build.yml
";
    let output = scan(&[
        (WORKFLOW, PRT_CALLER),
        (REUSABLE, middle),
        (".github/workflows/build.yml", REUSABLE_BUILD),
    ]);
    let found = rule(&output, "FG-001");
    assert_eq!(found.len(), 1, "{output:#?}");
    assert_eq!(found[0].path, ".github/workflows/build.yml");
    assert!(
        found[0].message.contains("via `workflow_call`"),
        "{}",
        found[0].message
    );
    assert!(has_related(
        found[0],
        REUSABLE,
        line_of(middle, "uses: ./.github")
    ));
}
