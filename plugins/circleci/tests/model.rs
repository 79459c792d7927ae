//! The typed model keeps every construct of a configuration.

use sluice_pack_circleci::model::{Config, OrbKind, Step};
use sluice_pack_sdk::yaml;

const CONFIG: &str = "\
version: 2.1
setup: true
parameters:
  flag: {type: boolean, default: false}
  name: {type: string, default: x}
orbs:
  node: circleci/node@5.2.0
  placeholder: {}
  tools:
    orbs:
      jq: circleci/jq@3
    executors:
      small:
        docker: [{image: cimg/base:2024.01}]
        resource_class: small
    commands:
      hi:
        parameters:
          who: {type: string}
        steps:
          - run: echo << parameters.who >>
    jobs:
      greet:
        executor: small
        steps: [hi]
executors:
  vm:
    machine: {image: ubuntu-2204:current}
commands:
  setup:
    parameters:
      extra: {type: steps, default: []}
    steps:
      - checkout
      - steps: << parameters.extra >>
jobs:
  build:
    docker:
      - image: cimg/node:20.11
      - image: postgres:16
    resource_class: acme/runner
    parameters:
      mode: {type: enum, enum: [a, b], default: a}
    steps:
      - checkout
      - run: make
      - run:
          name: Test
          command: make test
          environment: {CI: 'true'}
      - node/install-packages: {pkg-manager: npm}
      - setup:
          extra:
            - run: echo passed
      - when:
          condition: << pipeline.parameters.flag >>
          steps: [{run: ./deploy.sh}]
      - unless:
          condition: << pipeline.parameters.flag >>
          steps: [save_cache]
      - add_ssh_keys
workflows:
  version: 2
  ci:
    when: << pipeline.parameters.flag >>
    jobs:
      - hold: {type: approval}
      - build:
          context: [a, b]
          requires: [hold]
          filters: {branches: {only: main}, tags: {only: /.*/}}
          matrix: {parameters: {mode: [a, b]}}
          pre-steps: [{run: echo pre}]
          post-steps: [{run: echo post}]
      - tools/greet
  nightly:
    triggers:
      - schedule: {cron: '0 0 * * *', filters: {branches: {only: main}}}
    jobs: [build]
";

#[test]
fn every_construct_is_parsed() {
    let documents = yaml::parse(CONFIG).expect("valid YAML");
    let config = Config::parse(&documents[0].root).expect("a CircleCI config");
    assert!(config.setup);
    assert_eq!(config.version.map(|v| v.value), Some("2.1"));
    assert_eq!(config.parameters.len(), 2);
    assert!(!config.parameters[0].holds_text());
    assert!(config.parameters[1].holds_text());

    let root = &config.scopes[0];
    assert_eq!(root.orbs.len(), 3);
    assert!(matches!(root.orbs[0].kind, OrbKind::Registry(r) if r.value == "circleci/node@5.2.0"));
    assert!(matches!(root.orbs[1].kind, OrbKind::Placeholder));
    let OrbKind::Inline(tools) = root.orbs[2].kind else {
        panic!("inline orb expected");
    };
    let tools = &config.scopes[tools];
    assert_eq!(tools.prefix, "tools/");
    assert_eq!(tools.orbs.len(), 1);
    assert_eq!(tools.executors.len(), 1);
    assert_eq!(tools.commands[0].parameters.len(), 1);
    assert_eq!(tools.jobs[0].name.value, "greet");
    assert!(config.job(0, "tools/greet").is_some());
    assert!(config.command(0, "tools/hi").is_some());
    assert!(config.executor(0, "vm").is_some());
    assert!(config.is_external_reference(0, "node/install-packages"));
    assert!(config.is_external_reference(0, "placeholder/run"));

    let (_, build) = config.job(0, "build").expect("job build");
    assert_eq!(build.runs_on.images.len(), 2);
    assert_eq!(
        build.runs_on.resource_class.map(|r| r.value),
        Some("acme/runner")
    );
    let kinds: Vec<&str> = build
        .steps
        .iter()
        .map(|s| match s {
            Step::Checkout { .. } => "checkout",
            Step::Run(_) => "run",
            Step::Conditional { .. } => "conditional",
            Step::Builtin { .. } => "builtin",
            Step::Invoke { .. } => "invoke",
            Step::Opaque { .. } => "opaque",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "checkout",
            "run",
            "run",
            "invoke",
            "invoke",
            "conditional",
            "conditional",
            "builtin"
        ]
    );
    let Step::Run(test) = &build.steps[2] else {
        panic!("run expected");
    };
    assert_eq!(test.name.map(|n| n.value), Some("Test"));
    assert_eq!(test.command.map(|c| c.value), Some("make test"));
    assert!(test.environment.is_some());
    let Step::Invoke { passed, .. } = &build.steps[4] else {
        panic!("invoke expected");
    };
    assert_eq!(passed.len(), 1);

    assert_eq!(config.workflows.len(), 2);
    let ci = &config.workflows[0];
    assert!(ci.when.is_some());
    assert_eq!(ci.jobs.len(), 3);
    assert!(ci.jobs[0].approval);
    let entry = &ci.jobs[1];
    assert_eq!(entry.contexts.len(), 2);
    assert_eq!(entry.requires[0].value, "hold");
    assert!(entry.filters.is_some() && entry.matrix.is_some());
    assert_eq!((entry.pre_steps.len(), entry.post_steps.len()), (1, 1));
    assert!(config.workflows[1].scheduled.is_some());
}

#[test]
fn documents_without_circleci_keys_are_not_configs() {
    let documents = yaml::parse("name: x\nitems: [1]\n").expect("valid YAML");
    assert!(Config::parse(&documents[0].root).is_none());
}
