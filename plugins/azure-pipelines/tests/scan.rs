//! End-to-end checks of the pack through the SDK's native harness: parsing of Azure's
//! constructs, template expansion, and each rule's edge cases.

use std::path::PathBuf;

use sluice_pack_azure_pipelines::AzurePipelines;
use sluice_pack_sdk::testing::{check_fixture, scan};
use sluice_pack_sdk::{Confidence, Finding, Pack, Severity};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/azure-pipelines")
}

fn of<'f>(findings: &'f [Finding], rule: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.rule_id == rule).collect()
}

#[test]
fn every_rule_has_a_doc_page() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let rules = AzurePipelines::info().rules;
    assert_eq!(rules.len(), 12);
    for rule in rules {
        let page = docs.join(format!("{}.md", rule.id));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{} has no doc page at {}: {e}", rule.id, page.display()));
        assert!(
            text.starts_with(&format!("# {} ", rule.id)),
            "{} does not start with its rule id",
            page.display()
        );
    }
}

#[test]
fn single_file_fixtures_hold_natively() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixture_dir()).expect("fixture directory") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let content = std::fs::read_to_string(&path).expect("UTF-8 fixture");
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            check_fixture::<AzurePipelines>(&name, &content, &[]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} fixtures");
}

#[test]
fn template_directory_fixture_holds_natively() {
    let root = fixture_dir().join("with-templates");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("fixture file");
    let files = [
        ("azure-pipelines.yml", read("azure-pipelines.yml")),
        (
            ".azure-pipelines/templates/build-job.yml",
            read(".azure-pipelines/templates/build-job.yml"),
        ),
        (
            ".azure-pipelines/templates/steps.yml",
            read(".azure-pipelines/templates/steps.yml"),
        ),
        (
            ".azure-pipelines/templates/safe-steps.yml",
            read(".azure-pipelines/templates/safe-steps.yml"),
        ),
    ];
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    for (path, content) in &borrowed {
        let others: Vec<(&str, &str)> = borrowed
            .iter()
            .filter(|(p, _)| p != path)
            .copied()
            .collect();
        check_fixture::<AzurePipelines>(path, content, &others);
    }
    // The template step is reported once, in the template, with the job name the caller gave.
    let output = scan::<AzurePipelines>(&borrowed);
    let injections = of(&output.findings, "AZ-002");
    assert_eq!(injections.len(), 2, "{injections:#?}");
    assert!(injections.iter().all(|f| f.path.ends_with("steps.yml")));
    assert!(
        injections[0].message.contains("job `build`"),
        "{}",
        injections[0].message
    );
}

#[test]
fn template_used_by_two_pipelines_is_reported_once() {
    let template = "parameters:\n  - name: x\n    type: boolean\nsteps:\n  - script: echo $(Build.SourceVersionMessage)\n";
    let pipeline = "pr: [main]\nsteps:\n  - template: t.yml\n";
    let output = scan::<AzurePipelines>(&[
        ("a/azure-pipelines.yml", pipeline),
        ("a/azure-pipelines-2.yml", pipeline),
        ("a/t.yml", template),
    ]);
    let injections = of(&output.findings, "AZ-002");
    assert_eq!(injections.len(), 1, "{injections:#?}");
    assert_eq!(injections[0].path, "a/t.yml");
    assert_eq!(injections[0].span.start_line, 5);
    assert_eq!(injections[0].span.start_column, 18);
    assert_eq!(injections[0].confidence, Confidence::High);
}

#[test]
fn standalone_template_has_unknown_context() {
    let template = "parameters:\n  - name: title\n    type: string\n  - name: flag\n    type: boolean\n  - name: choice\n    type: string\n    values: [a, b]\nsteps:\n  - bash: |\n      echo ${{ parameters.title }}\n      echo ${{ parameters.flag }} ${{ parameters.choice }}\n";
    let output = scan::<AzurePipelines>(&[("eng/pipelines/steps.yml", template)]);
    let injections = of(&output.findings, "AZ-002");
    assert_eq!(injections.len(), 1, "{injections:#?}");
    assert_eq!(injections[0].severity, Severity::Medium);
    assert_eq!(injections[0].confidence, Confidence::Low);
    assert_eq!(injections[0].span.start_line, 11);
}

#[test]
fn remote_templates_are_not_followed_but_passed_steps_are_analysed() {
    let pipeline = "resources:\n  repositories:\n    - repository: t\n      type: git\n      name: p/t\n      ref: refs/tags/v1\nextends:\n  template: x.yml@t\n  parameters:\n    jobs:\n      - job: a\n        steps:\n          - bash: echo $(Build.SourceVersionMessage)\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline)]);
    assert_eq!(of(&output.findings, "AZ-002").len(), 1);
    let unpinned = of(&output.findings, "AZ-003");
    assert_eq!(unpinned.len(), 1);
    assert_eq!(unpinned[0].severity, Severity::Low);
    assert_eq!(unpinned[0].mitigations[0].kind, "tag-ref");
}

#[test]
fn conditions_lower_but_do_not_hide() {
    let pipeline = "pr: [main]\njobs:\n  - job: a\n    pool: Mine\n    condition: ne(variables['Build.Reason'], 'PullRequest')\n    steps:\n      - script: make\n  - job: b\n    pool: Mine\n    condition: eq(variables['System.PullRequest.IsFork'], 'False')\n    steps:\n      - script: make\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline)]);
    let pools = of(&output.findings, "AZ-009");
    assert_eq!(pools.len(), 2, "{pools:#?}");
    assert_eq!(pools[0].severity, Severity::Info);
    assert_eq!(pools[0].mitigations[0].kind, "pr-excluded-condition");
    assert_eq!(pools[1].severity, Severity::Low);
    assert_eq!(pools[1].mitigations[0].kind, "fork-excluded-condition");
}

#[test]
fn missing_pr_key_lowers_confidence_and_pr_none_silences() {
    let default = "pool: Mine\nsteps:\n  - script: make\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", default)]);
    let pools = of(&output.findings, "AZ-009");
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].confidence, Confidence::Medium);
    let none = "pr: none\npool: Mine\nsteps:\n  - script: make\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", none)]);
    assert!(of(&output.findings, "AZ-009").is_empty());
}

#[test]
fn secrets_piped_or_redirected_are_not_logged() {
    let pipeline = "steps:\n  - bash: |\n      echo \"$(RegistryPassword)\" | docker login -u x --password-stdin r.io\n      echo \"$ID_TOKEN\" > token.txt\n      Write-Host \"length $($token.Length)\"\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline)]);
    assert!(
        of(&output.findings, "AZ-005").is_empty(),
        "{:#?}",
        output.findings
    );
}

#[test]
fn variable_group_template_and_insertions_are_followed() {
    let pipeline = "pr: [main]\nvariables:\n  - template: vars.yml\n  - ${{ if eq(variables['Build.SourceBranchName'], 'main') }}:\n    - group: release\nsteps:\n  - script: make\n";
    let vars = "variables:\n  - group: shared\n  - name: system.debug\n    value: true\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline), ("vars.yml", vars)]);
    let groups: Vec<&str> = of(&output.findings, "AZ-006")
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(groups, ["vars.yml", "azure-pipelines.yml"]);
    let debug = of(&output.findings, "AZ-012");
    assert_eq!(debug.len(), 1);
    assert_eq!(debug[0].path, "vars.yml");
}

#[test]
fn invalid_yaml_is_a_parse_error_and_others_still_scan() {
    let output = scan::<AzurePipelines>(&[
        ("bad/azure-pipelines.yml", "steps: [\n"),
        (
            "good/azure-pipelines.yml",
            "steps:\n  - script: echo $(Build.SourceVersionMessage)\n",
        ),
    ]);
    assert_eq!(output.errors.len(), 1);
    assert_eq!(of(&output.findings, "AZ-002").len(), 1);
}

#[test]
fn steps_passed_to_a_template_loop_are_analysed_where_written() {
    let template = "parameters:\n  - name: steps\n    type: stepList\n    default: []\nsteps:\n  - script: echo start\n  - ${{ each step in parameters.steps }}:\n    - ${{ step }}\n";
    let pipeline = "pr: [main]\npool: Mine\nsteps:\n  - template: build.yml\n    parameters:\n      steps:\n        - bash: echo $(System.PullRequest.SourceBranch)\n";
    let output =
        scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline), ("build.yml", template)]);
    let injections = of(&output.findings, "AZ-002");
    assert_eq!(injections.len(), 1, "{:#?}", output.findings);
    assert_eq!(injections[0].path, "azure-pipelines.yml");
    assert_eq!(injections[0].span.start_line, 7);
    assert_eq!(injections[0].severity, Severity::High);
}

#[test]
fn local_extends_chain_reaches_remote_and_passed_code() {
    let pipeline = "pr: [main]\nextends:\n  template: pipeline.yml\n  parameters:\n    buildSteps:\n      - bash: echo $(Build.SourceVersionMessage)\n";
    let wrapper = "parameters:\n  - name: buildSteps\n    type: stepList\nresources: {}\nextends:\n  template: v1/x.yml@templates\n  parameters:\n    stages:\n      - stage: s\n        jobs:\n          - job: j\n            steps: ${{ parameters.buildSteps }}\n";
    let output =
        scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline), ("pipeline.yml", wrapper)]);
    let injections = of(&output.findings, "AZ-002");
    assert_eq!(injections.len(), 1, "{:#?}", output.findings);
    assert_eq!(injections[0].path, "azure-pipelines.yml");
    assert!(
        injections[0].message.contains("job `j`"),
        "{}",
        injections[0].message
    );
}

#[test]
fn group_inserted_only_outside_pull_requests_is_mitigated() {
    let pipeline = "pr: [main]\nvariables:\n  - ${{ if notin(variables['Build.Reason'], 'PullRequest') }}:\n    - group: signing\njobs:\n  - job: build\n    steps:\n      - script: make\n";
    let output = scan::<AzurePipelines>(&[("azure-pipelines.yml", pipeline)]);
    let groups = of(&output.findings, "AZ-006");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].severity, Severity::Info);
    let builds = of(&output.findings, "AZ-001");
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].severity, Severity::Info);
    assert_eq!(builds[0].mitigations[0].kind, "pr-excluded-condition");
}
