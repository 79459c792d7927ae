//! Severity, confidence, spans, file selection and errors: what the fixture markers (which
//! check only lines) do not.

use sluice_pack_sdk::testing;
use sluice_pack_sdk::{Confidence, FileErrorKind, Finding, Severity};
use sluice_pack_tekton::Tekton;

fn findings(files: &[(&str, &str)], rule: &str) -> Vec<Finding> {
    testing::scan::<Tekton>(files)
        .findings
        .into_iter()
        .filter(|f| f.rule_id == rule)
        .collect()
}

fn pac_run(event: &str, param_value: &str, script: &str) -> String {
    format!(
        "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: r\n  annotations:\n    \
         pipelinesascode.tekton.dev/on-event: \"[{event}]\"\nspec:\n  params:\n    - name: x\n      \
         value: \"{param_value}\"\n  pipelineSpec:\n    tasks:\n      - name: t\n        taskSpec:\n          \
         steps:\n            - name: s\n              image: a@sha256:{}\n              script: |\n                \
         {script}\n",
        "0".repeat(64)
    )
}

#[test]
fn pull_request_event_text_is_high_and_points_at_the_reference() {
    let content = pac_run(
        "pull_request",
        "{{ source_branch }}",
        "git checkout $(params.x)",
    );
    let found = findings(&[(".tekton/pr.yaml", &content)], "TK-001");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(found[0].confidence, Confidence::High);
    assert_eq!(found[0].span.start_line, 19);
    // `git checkout ` is 13 characters after the 17-column indentation.
    assert_eq!(found[0].span.start_column, 30);
    assert_eq!(found[0].span.end_column, 41);
    assert!(found[0].message.contains("{{ source_branch }}"));
    assert!(
        found[0]
            .related
            .iter()
            .any(|r| r.message.contains("on-event"))
    );
}

#[test]
fn the_same_text_on_push_is_medium_and_constants_are_low() {
    let push = pac_run("push", "{{ source_branch }}", "git checkout $(params.x)");
    let found = findings(&[("a.yaml", &push)], "TK-001");
    assert_eq!(found[0].severity, Severity::Medium);
    let constant = pac_run("pull_request", "{{ revision }}", "git checkout $(params.x)");
    let found = findings(&[("a.yaml", &constant)], "TK-001");
    assert_eq!(found[0].severity, Severity::Low);
    assert_eq!(found[0].mitigations[0].kind, "constant-value");
}

#[test]
fn headers_are_attacker_text_only_for_incoming_webhooks() {
    let pull = pac_run("pull_request", "v", "echo {{ headers['X-A'] }}");
    assert_eq!(
        findings(&[("a.yaml", &pull)], "TK-001")[0].severity,
        Severity::Low
    );
    let incoming = pac_run("incoming", "v", "echo {{ headers['X-A'] }}");
    assert_eq!(
        findings(&[("a.yaml", &incoming)], "TK-001")[0].severity,
        Severity::High
    );
}

#[test]
fn placeholders_outside_pipelines_as_code_are_not_read() {
    let content = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n    \
                   - name: s\n      image: a\n      script: echo {{ body.title }}\n";
    assert!(findings(&[("a.yaml", content)], "TK-001").is_empty());
}

#[test]
fn a_task_reached_from_a_pull_request_run_is_reported_once_with_the_raised_severity() {
    let task = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: build\nspec:\n  params:\n    \
                - name: ref\n  steps:\n    - name: s\n      image: a\n      securityContext:\n        \
                privileged: true\n      script: git checkout $(params.ref)\n";
    let run = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: r\n  annotations:\n    \
               pipelinesascode.tekton.dev/on-event: pull_request\nspec:\n  params:\n    - name: ref\n      \
               value: '{{ body.pull_request.head.ref }}'\n  taskRef:\n    name: build\n";
    let files = [("tasks/build.yaml", task), (".tekton/run.yaml", run)];
    let injection = findings(&files, "TK-001");
    assert_eq!(injection.len(), 1, "{injection:#?}");
    assert_eq!(injection[0].severity, Severity::High);
    assert_eq!(injection[0].path, "tasks/build.yaml");
    assert!(
        injection[0]
            .related
            .iter()
            .any(|r| r.path == ".tekton/run.yaml")
    );
    let privileged = findings(&files, "TK-009");
    assert_eq!(privileged.len(), 1);
    assert_eq!(privileged[0].severity, Severity::High);
    // On its own the Task is Medium for both.
    let alone = findings(&files[..1], "TK-009");
    assert_eq!(alone[0].severity, Severity::Medium);
}

#[test]
fn file_selection_and_errors() {
    let broken = "key: [unclosed\n";
    // Not Tekton, outside the Tekton directories: skipped, no error.
    let output = testing::scan::<Tekton>(&[("k8s/values.yaml", broken)]);
    assert!(output.errors.is_empty() && output.findings.is_empty());
    // Inside `.tekton/`: a Tekton file, its parse error is reported.
    let output = testing::scan::<Tekton>(&[(".tekton/broken.yaml", broken)]);
    assert_eq!(output.errors.len(), 1);
    assert_eq!(output.errors[0].kind, FileErrorKind::Parse);
    // Outside, but it declares a Tekton apiVersion: reported too.
    let declared = "apiVersion: tekton.dev/v1\nkind: Task\nspec: [unclosed\n";
    let output = testing::scan::<Tekton>(&[("ci/task.yaml", declared)]);
    assert_eq!(output.errors.len(), 1);
    // A non-Tekton document inside `.tekton/` (kustomization) is parsed and yields nothing.
    let output =
        testing::scan::<Tekton>(&[(".tekton/kustomization.yaml", "resources: [a.yaml]\n")]);
    assert!(output.errors.is_empty() && output.findings.is_empty());
}

#[test]
fn kind_list_items_and_every_document_are_read() {
    let content = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: tekton.dev/v1\n    kind: Task\n    \
                   metadata:\n      name: a\n    spec:\n      steps:\n        - image: alpine\n---\n\
                   apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: b\nspec:\n  steps:\n    \
                   - image: busybox:1\n";
    let found = findings(&[("x.yaml", content)], "TK-010");
    let lines: Vec<u32> = found.iter().map(|f| f.span.start_line).collect();
    assert_eq!(lines, vec![10, 18]);
}

#[test]
fn triggers_binding_not_in_the_scan_is_medium() {
    let template = "apiVersion: triggers.tekton.dev/v1beta1\nkind: TriggerTemplate\nmetadata:\n  name: t\n\
                    spec:\n  params:\n    - name: msg\n  resourcetemplates:\n    - apiVersion: tekton.dev/v1\n      \
                    kind: TaskRun\n      metadata:\n        generateName: r-\n      spec:\n        params:\n          \
                    - name: msg\n            value: $(tt.params.msg)\n        taskSpec:\n          steps:\n            \
                    - image: a\n              script: echo $(params.msg)\n";
    let found = findings(&[("t.yaml", template)], "TK-001");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Medium);
}
