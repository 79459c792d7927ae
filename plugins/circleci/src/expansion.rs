//! Expands what actually runs: each workflow job with the arguments its workflow passes,
//! reusable commands inlined with the arguments of each invocation (findings still point at
//! the command's own lines), `pre-steps`/`post-steps`, and steps passed as arguments. Jobs
//! and commands the configuration never invokes are expanded once with unknown arguments,
//! so nothing is left unanalysed.

use std::collections::HashSet;
use std::rc::Rc;

use sluice_pack_sdk::yaml::Node;

use crate::exposure::{self, Exposure, Gate};
use crate::model::{Config, Job, ParamDecl, Run, Step, Workflow, WorkflowJob, workflows};
use crate::taint::Env;

/// Deepest chain of commands invoking commands that is followed.
const MAX_DEPTH: usize = 16;

/// Most steps one file may expand to. Commands that invoke several commands that invoke
/// several commands grow exponentially; a hostile file must stay cheap.
const STEP_BUDGET: usize = 50_000;

/// One `run` step as it executes in one job.
#[derive(Debug, Clone)]
pub struct RunSite<'c, 'a> {
    pub run: &'c Run<'a>,
    pub env: Rc<Env>,
    /// Commands the run sits in, outermost first (`greet`, `tools/setup`).
    pub via: Vec<String>,
    /// `when` steps around the run whose condition fork pull requests cannot meet.
    pub gates: Vec<Gate>,
}

impl RunSite<'_, '_> {
    /// The job's exposure narrowed by the `when` steps around this run.
    pub fn exposure(&self, job: &Exposure) -> Exposure {
        let mut exposure = job.clone();
        exposure.excluded.extend(self.gates.iter().cloned());
        exposure
    }
}

/// One job as a workflow runs it (or as defined, when no workflow does).
#[derive(Debug)]
pub struct JobInstance<'c, 'a> {
    /// `workflow/job` for messages.
    pub label: String,
    pub workflow: Option<&'c Workflow<'a>>,
    pub entry: Option<&'c WorkflowJob<'a>>,
    pub job: Option<(usize, &'c Job<'a>)>,
    pub exposure: Exposure,
    /// False for jobs no workflow runs: their arguments are unknown.
    pub invoked: bool,
    pub runs: Vec<RunSite<'c, 'a>>,
    /// The first `checkout` step.
    pub checkout: Option<&'a Node>,
    /// The first step after the checkout that runs code: a `run` or a command.
    pub executes_after_checkout: Option<(&'a Node, String)>,
    /// `add_ssh_keys` steps.
    pub ssh_keys: Option<&'a Node>,
}

/// Every job instance and every `run` outside them (commands never invoked).
#[derive(Debug, Default)]
pub struct Expansion<'c, 'a> {
    pub jobs: Vec<JobInstance<'c, 'a>>,
    pub orphan_runs: Vec<RunSite<'c, 'a>>,
}

struct Walker<'c, 'a> {
    config: &'c Config<'a>,
    /// (scope, command name) of every command expanded at least once.
    expanded_commands: HashSet<(usize, &'a str)>,
    /// Names already logged as undefined: one warning per name and file.
    reported_missing: HashSet<&'a str>,
    /// Gates of the `when` steps the walk is inside.
    gates: Vec<Gate>,
    /// Steps left to expand ([`STEP_BUDGET`]).
    budget: usize,
    parameters_from_setup: bool,
}

/// Expands `config`. `parameters_from_setup`: another file of the repository is a setup
/// configuration, which may continue into this one with pipeline parameters of its choosing.
pub fn expand<'c, 'a>(config: &'c Config<'a>, parameters_from_setup: bool) -> Expansion<'c, 'a> {
    let mut walker = Walker {
        config,
        expanded_commands: HashSet::new(),
        reported_missing: HashSet::new(),
        gates: Vec::new(),
        budget: STEP_BUDGET,
        parameters_from_setup,
    };
    let mut expansion = Expansion::default();
    let mut invoked_jobs: HashSet<(usize, &'a str)> = HashSet::new();
    let root_env = Rc::new(Env::default());
    for workflow in &config.workflows {
        for entry in &workflow.jobs {
            let job = config.job(0, entry.job.value);
            if let Some((scope, job)) = job {
                invoked_jobs.insert((scope, job.name.value));
            } else if !entry.approval
                && !config.is_external_reference(0, entry.job.value)
                && walker.reported_missing.insert(entry.job.value)
            {
                sluice_pack_sdk::log::warn(&format!(
                    "workflow `{}` runs job `{}`, which is not defined in this file",
                    workflow.name.value, entry.job.value
                ));
            }
            let mut instance = JobInstance {
                label: format!("{}/{}", workflow.name.value, entry.name),
                workflow: Some(workflow),
                entry: Some(entry),
                job,
                exposure: exposure::of(workflow, entry, parameters_from_setup),
                invoked: true,
                runs: Vec::new(),
                checkout: None,
                executes_after_checkout: None,
                ssh_keys: None,
            };
            walker.walk(
                &entry.pre_steps,
                0,
                &root_env,
                &mut Vec::new(),
                &mut instance,
            );
            if let Some((scope, job)) = job {
                let env = Rc::new(Env::bind(config, &job.parameters, &root_env, |name| {
                    entry_arguments(entry, name)
                }));
                walker.walk(&job.steps, scope, &env, &mut Vec::new(), &mut instance);
            }
            walker.walk(
                &entry.post_steps,
                0,
                &root_env,
                &mut Vec::new(),
                &mut instance,
            );
            expansion.jobs.push(instance);
        }
    }
    // Without `workflows:`, CircleCI runs the job named `build` for every push and pull
    // request (the 2.0 form).
    if config.workflows.is_empty()
        && let Some((scope, job)) = config.job(0, "build")
    {
        invoked_jobs.insert((scope, job.name.value));
        let env = Rc::new(Env::bind(config, &job.parameters, &root_env, |_| {
            Vec::new()
        }));
        let mut instance = JobInstance {
            label: job.name.value.to_owned(),
            workflow: None,
            entry: None,
            job: Some((scope, job)),
            exposure: Exposure::default(),
            invoked: true,
            runs: Vec::new(),
            checkout: None,
            executes_after_checkout: None,
            ssh_keys: None,
        };
        walker.walk(&job.steps, scope, &env, &mut Vec::new(), &mut instance);
        expansion.jobs.push(instance);
    }
    // Jobs no workflow runs: continuation and orb configurations, or dead code. Analysed
    // once with unknown arguments.
    for (scope_index, scope) in config.scopes.iter().enumerate() {
        for job in &scope.jobs {
            if invoked_jobs.contains(&(scope_index, job.name.value)) {
                continue;
            }
            let owner = format!("job `{}{}`", scope.prefix, job.name.value);
            let env = Rc::new(Env::unknown_callers(&job.parameters, &owner));
            let mut instance = JobInstance {
                label: format!("{}{}", scope.prefix, job.name.value),
                workflow: None,
                entry: None,
                job: Some((scope_index, job)),
                exposure: Exposure::default(),
                invoked: false,
                runs: Vec::new(),
                checkout: None,
                executes_after_checkout: None,
                ssh_keys: None,
            };
            walker.walk(
                &job.steps,
                scope_index,
                &env,
                &mut Vec::new(),
                &mut instance,
            );
            expansion.jobs.push(instance);
        }
    }
    // Commands nothing expanded get their own budget: a file that exhausted it on its jobs
    // still has every command analysed at least on its own.
    walker.budget = STEP_BUDGET;
    for (scope_index, scope) in config.scopes.iter().enumerate() {
        for command in &scope.commands {
            if walker
                .expanded_commands
                .contains(&(scope_index, command.name.value))
            {
                continue;
            }
            let owner = format!("command `{}{}`", scope.prefix, command.name.value);
            let env = Rc::new(Env::unknown_callers(&command.parameters, &owner));
            let mut instance = JobInstance {
                label: String::new(),
                workflow: None,
                entry: None,
                job: None,
                exposure: Exposure::default(),
                invoked: false,
                runs: Vec::new(),
                checkout: None,
                executes_after_checkout: None,
                ssh_keys: None,
            };
            let mut via = vec![format!("{}{}", scope.prefix, command.name.value)];
            walker
                .expanded_commands
                .insert((scope_index, command.name.value));
            walker.walk(&command.steps, scope_index, &env, &mut via, &mut instance);
            expansion.orphan_runs.extend(instance.runs);
        }
    }
    expansion
}

/// The values a workflow entry passes for job parameter `name`: the argument, or every
/// value of a `matrix`.
fn entry_arguments<'a>(entry: &WorkflowJob<'a>, name: &str) -> Vec<&'a Node> {
    if workflows::ENTRY_KEYS.contains(&name) {
        return Vec::new();
    }
    if let Some(values) = entry
        .matrix
        .and_then(|m| m.get("parameters"))
        .and_then(|p| p.get(name))
    {
        return match values.as_sequence() {
            Some(items) => items.iter().collect(),
            None => vec![values],
        };
    }
    entry.args.and_then(|a| a.get(name)).into_iter().collect()
}

impl<'c, 'a> Walker<'c, 'a> {
    fn walk(
        &mut self,
        steps: &'c [Step<'a>],
        scope: usize,
        env: &Rc<Env>,
        via: &mut Vec<String>,
        instance: &mut JobInstance<'c, 'a>,
    ) {
        for step in steps {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            if self.budget == 0 {
                sluice_pack_sdk::log::warn(&format!(
                    "the configuration expands to more than {STEP_BUDGET} steps; the rest is \
                     not expanded"
                ));
            }
            match step {
                Step::Checkout { node } => {
                    instance.checkout.get_or_insert(node);
                }
                Step::Run(run) => {
                    if instance.checkout.is_some() && instance.executes_after_checkout.is_none() {
                        instance.executes_after_checkout =
                            Some((run.key, format!("runs `{}`", run.label())));
                    }
                    instance.runs.push(RunSite {
                        run,
                        env: Rc::clone(env),
                        via: via.clone(),
                        gates: self.gates.clone(),
                    });
                }
                Step::Conditional {
                    keyword,
                    condition,
                    steps,
                } => {
                    let gate = condition
                        .filter(|_| keyword.value == "when")
                        .and_then(|c| exposure::condition_gate(c, self.parameters_from_setup))
                        .map(|reason| Gate {
                            kind: "step-condition",
                            description: format!(
                                "the `when` step at line {} runs its steps only when {reason}",
                                keyword.node.span.start_line
                            ),
                        });
                    let gated = gate.is_some();
                    self.gates.extend(gate);
                    self.walk(steps, scope, env, via, instance);
                    if gated {
                        self.gates.pop();
                    }
                }
                Step::Builtin { name, .. } => {
                    if name.value == "add_ssh_keys" {
                        instance.ssh_keys.get_or_insert(name.node);
                    }
                }
                Step::Invoke { name, args, passed } => {
                    self.walk(passed, scope, env, via, instance);
                    self.invoke(*name, *args, scope, env, via, instance);
                }
                Step::Opaque { .. } => {}
            }
        }
    }

    fn invoke(
        &mut self,
        name: crate::Text<'a>,
        args: Option<&'a Node>,
        scope: usize,
        env: &Rc<Env>,
        via: &mut Vec<String>,
        instance: &mut JobInstance<'c, 'a>,
    ) {
        if let Some((command_scope, command)) = self.config.command(scope, name.value) {
            // A local command counts as running code only through the `run` steps inside it.
            if via.len() >= MAX_DEPTH || via.iter().any(|v| v == name.value) {
                if !self.reported_missing.insert(name.value) {
                    return;
                }
                sluice_pack_sdk::log::warn(&format!(
                    "command `{}` at line {} invokes itself or nests too deep; not expanded again",
                    name.value, name.node.span.start_line
                ));
                return;
            }
            self.expanded_commands
                .insert((command_scope, command.name.value));
            let bound = Rc::new(bind_command(self.config, &command.parameters, env, args));
            via.push(name.value.to_owned());
            self.walk(&command.steps, command_scope, &bound, via, instance);
            via.pop();
        } else if self.config.is_external_reference(scope, name.value) {
            // Registry orb commands run code the scan cannot see (installs, tests).
            if instance.checkout.is_some() && instance.executes_after_checkout.is_none() {
                instance.executes_after_checkout =
                    Some((name.node, format!("runs orb command `{}`", name.value)));
            }
        } else if self.reported_missing.insert(name.value) {
            sluice_pack_sdk::log::warn(&format!(
                "step `{}` at line {} invokes a command that is not defined in this file",
                name.value, name.node.span.start_line
            ));
        }
    }
}

fn bind_command<'a>(
    config: &Config<'_>,
    decls: &[ParamDecl<'a>],
    caller: &Env,
    args: Option<&'a Node>,
) -> Env {
    Env::bind(config, decls, caller, |name| {
        args.and_then(|a| a.get(name)).into_iter().collect()
    })
}
