//! The resolved job model: extends, default, inherit, !reference, includes, roots.

use sluice_pack_gitlab_ci::pipeline::{FileConfig, Pipeline};
use sluice_pack_gitlab_ci::{GitlabCi, exposure};
use sluice_pack_sdk::testing;
use sluice_pack_sdk::yaml::{self, Document};

fn parse(files: &[(&'static str, &str)]) -> Vec<(&'static str, Vec<Document>)> {
    files
        .iter()
        .map(|(path, content)| (*path, yaml::parse(content).expect("valid YAML")))
        .collect()
}

#[test]
fn extends_merges_mappings_and_replaces_arrays() {
    let parsed = parse(&[(
        ".gitlab-ci.yml",
        "\
.a:
  variables: {A: '1', B: '1'}
  script: [one, two]
  tags: [a]
.b:
  extends: .a
  variables: {B: '2'}
  script: [three]
job:
  extends: [.b]
  variables: {C: '3'}
",
    )]);
    let files: Vec<FileConfig> = parsed.iter().map(|(p, d)| FileConfig::new(p, d)).collect();
    let pipelines = Pipeline::all(&files);
    assert_eq!(pipelines.len(), 1);
    let jobs = &pipelines[0].jobs;
    assert_eq!(jobs.len(), 1, "hidden templates are not jobs");
    let job = &jobs[0];
    assert_eq!(job.variable("A").map(|v| v.1), Some("1"));
    assert_eq!(job.variable("B").map(|v| v.1), Some("2"));
    assert_eq!(job.variable("C").map(|v| v.1), Some("3"));
    let script: Vec<&str> = job
        .script_lines()
        .iter()
        .filter_map(|(_, at)| at.node.as_str())
        .collect();
    assert_eq!(script, ["three"], "arrays are replaced, not merged");
    assert!(job.config.get("tags").is_some());
}

#[test]
fn default_and_inherit_and_reserved_keys() {
    let parsed = parse(&[(
        ".gitlab-ci.yml",
        "\
stages: [a]
variables: {G: '1', H: '2'}
default:
  image: alpine
  tags: [shell]
pages:
  script: [make]
opted-out:
  inherit:
    default: [tags]
    variables: false
  script: [make]
",
    )]);
    let files: Vec<FileConfig> = parsed.iter().map(|(p, d)| FileConfig::new(p, d)).collect();
    let pipeline = &Pipeline::all(&files)[0];
    let names: Vec<&str> = pipeline.jobs.iter().map(|j| j.name).collect();
    assert_eq!(names, ["pages", "opted-out"]);
    let pages = &pipeline.jobs[0];
    assert!(pages.config.get("image").is_some());
    assert_eq!(pages.variable("G").map(|v| v.1), Some("1"));
    let opted = &pipeline.jobs[1];
    assert!(opted.config.get("image").is_none());
    assert!(opted.config.get("tags").is_some());
    assert!(opted.variable("G").is_none());
}

#[test]
fn references_resolve_and_flatten() {
    let parsed = parse(&[(
        ".gitlab-ci.yml",
        "\
.setup:
  script: [a, b]
job:
  script:
    - !reference [.setup, script]
    - c
",
    )]);
    let files: Vec<FileConfig> = parsed.iter().map(|(p, d)| FileConfig::new(p, d)).collect();
    let pipeline = &Pipeline::all(&files)[0];
    let script: Vec<&str> = pipeline.jobs[0]
        .script_lines()
        .iter()
        .filter_map(|(_, at)| at.node.as_str())
        .collect();
    assert_eq!(script, ["a", "b", "c"]);
}

#[test]
fn included_files_are_not_roots_and_jobs_keep_their_file() {
    let parsed = parse(&[
        (
            ".gitlab-ci.yml",
            "include: '/ci/*.yml'\nroot-job:\n  script: [x]\n",
        ),
        ("ci/a.yml", "a-job:\n  script: [y]\n"),
        ("ci/b.yml", "b-job:\n  script: [z]\n"),
    ]);
    let files: Vec<FileConfig> = parsed.iter().map(|(p, d)| FileConfig::new(p, d)).collect();
    let pipelines = Pipeline::all(&files);
    assert_eq!(
        pipelines.len(),
        1,
        "included files are analysed through their root"
    );
    let jobs: Vec<(&str, &str)> = pipelines[0]
        .jobs
        .iter()
        .map(|j| (j.name, j.key.path))
        .collect();
    assert!(jobs.contains(&("a-job", "ci/a.yml")));
    assert!(jobs.contains(&("b-job", "ci/b.yml")));
    assert!(jobs.contains(&("root-job", ".gitlab-ci.yml")));
}

#[test]
fn workflow_admits_jobs_without_rules() {
    let parsed = parse(&[(
        ".gitlab-ci.yml",
        "\
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'
plain:
  script: [make]
branch-only:
  rules:
    - if: $CI_COMMIT_BRANCH
  script: [make]
",
    )]);
    let files: Vec<FileConfig> = parsed.iter().map(|(p, d)| FileConfig::new(p, d)).collect();
    let pipeline = &Pipeline::all(&files)[0];
    let workflow = exposure::Workflow::of(pipeline);
    assert!(exposure::of_job(&pipeline.jobs[0], &workflow).on_mr());
    assert!(!exposure::of_job(&pipeline.jobs[1], &workflow).on_mr());
}

#[test]
fn invalid_yaml_is_a_parse_error_and_other_files_still_scan() {
    let output = testing::scan::<GitlabCi>(&[
        (".gitlab-ci.yml", "job: [unclosed\n"),
        ("b.gitlab-ci.yml", "job:\n  image: alpine\n  script: [x]\n"),
    ]);
    assert_eq!(output.errors.len(), 1);
    assert!(output.findings.iter().any(|f| f.rule_id == "GL-011"));
}

#[test]
fn an_included_file_shared_by_two_roots_is_reported_once() {
    let output = testing::scan::<GitlabCi>(&[
        ("a.gitlab-ci.yml", "include: shared.yml\n"),
        ("b.gitlab-ci.yml", "include: [shared.yml]\n"),
        ("shared.yml", "job:\n  image: alpine\n  script: [x]\n"),
    ]);
    let images: Vec<_> = output
        .findings
        .iter()
        .filter(|f| f.rule_id == "GL-011")
        .collect();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].path, "shared.yml");
}
