//! Walks every Tekton object of the scan and yields what the rules look at — task bodies,
//! StepActions, references and runs — each with the scope it runs in: who can trigger it and
//! what its params hold.
//!
//! A Task defined in the scan is visited on its own (its params unknown) and again through
//! every run or pipeline of the scan that reaches it by a local reference or inline spec, with
//! the params that run binds. Rules report each place once, keeping the worst verdict
//! ([`crate::rules::keep_worst_per_place`]).

use std::rc::Rc;

use sluice_pack_sdk::Span;
use sluice_pack_sdk::log;
use sluice_pack_sdk::yaml::Node;

use crate::exposure::{Exposure, Trigger};
use crate::model::task::{Param, bindings_of, params_of};
use crate::model::{Kind, Ref, Resource, Step, TaskSpec, items};
use crate::repository::{KindKey, Repository};
use crate::sources;
use crate::substitution::{self, Reference};

/// How far local references are followed (Pipeline → Task → StepAction is 3).
const MAX_DEPTH: usize = 6;

/// What a param (or `$(tt.params.x)`) holds in a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taint {
    /// Text an outsider chooses: a PaC placeholder or trigger binding of event text, in a run
    /// started by that event. `source` is the placeholder or binding as written.
    Attacker { source: String },
    /// Not known here (a Task or Pipeline on its own, or bound to something we cannot see).
    Unknown,
    /// The result of an earlier task or step (`what` as written).
    Result { what: String },
    /// A webhook header the forge sets on its own events (`{{ headers['X-GitHub-Event'] }}`).
    ForgeHeader { source: String },
    /// Bound to fixed text (a constant, a default, a safe placeholder such as `{{revision}}`).
    Constant,
}

impl Taint {
    fn rank(&self) -> u8 {
        match self {
            Taint::Attacker { .. } => 3,
            Taint::Unknown => 2,
            Taint::Result { .. } => 1,
            Taint::ForgeHeader { .. } | Taint::Constant => 0,
        }
    }

    pub fn worst(self, other: Taint) -> Taint {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// The run a visit was reached from, for related locations.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub path: String,
    pub label: String,
    pub span: Span,
}

/// Where a task body runs.
#[derive(Debug)]
pub struct Scope {
    pub exposure: Rc<Exposure>,
    /// Params bound here.
    params: Vec<(String, Taint)>,
    /// `$(tt.params.x)` values of a `TriggerTemplate`.
    trigger_params: Rc<Vec<(String, Taint)>>,
    /// Inline specs see the params of their run and pipeline even without declaring them
    /// (Tekton's propagated params); referenced specs do not.
    parent: Option<Rc<Scope>>,
    pub run: Option<Rc<RunInfo>>,
}

impl Scope {
    /// A definition on its own: nobody in sight triggers it, params unknown.
    pub fn standalone() -> Rc<Scope> {
        Rc::new(Scope {
            exposure: Rc::new(Exposure::none()),
            params: Vec::new(),
            trigger_params: Rc::new(Vec::new()),
            parent: None,
            run: None,
        })
    }

    pub fn param(&self, name: &str) -> Taint {
        if let Some((_, taint)) = self.params.iter().find(|(n, _)| n == name) {
            return taint.clone();
        }
        match &self.parent {
            Some(parent) => parent.param(name),
            None => Taint::Unknown,
        }
    }

    fn trigger_param(&self, name: &str) -> Taint {
        self.trigger_params
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Taint::Unknown, |(_, t)| t.clone())
    }

    /// What a written value holds once PaC and Tekton substituted it in this scope.
    pub fn taint_of(&self, value: &Node) -> Taint {
        let mut taint = Taint::Constant;
        for scalar in scalars(value) {
            let Some(text) = scalar.as_str() else {
                continue;
            };
            for placeholder in substitution::placeholders(text) {
                if let Some(next) = self.taint_of_placeholder(&placeholder, text) {
                    taint = taint.worst(next);
                }
            }
            for found in substitution::references(text) {
                taint = taint.worst(self.taint_of_reference(&found));
            }
        }
        taint
    }

    /// What one `$(…)` reference holds in this scope.
    pub fn taint_of_reference(&self, found: &substitution::Substitution<'_>) -> Taint {
        match &found.reference {
            Reference::Param(name) => self.param(name),
            Reference::TriggerParam(name) => self.trigger_param(name),
            Reference::TaskResult { .. } | Reference::StepResult { .. } => Taint::Result {
                what: found.text.to_owned(),
            },
            Reference::EventField(field) if sources::is_attacker_trigger_field(field) => {
                self.attacker_or_unknown(found.text)
            }
            Reference::EventField(_) | Reference::Other => Taint::Constant,
        }
    }

    /// What a PaC placeholder holds in this scope (`None`: not attacker text, or not PaC).
    pub fn taint_of_placeholder(
        &self,
        placeholder: &substitution::Placeholder<'_>,
        text: &str,
    ) -> Option<Taint> {
        if !self.exposure.pac {
            return None;
        }
        let written = &text[placeholder.range.clone()];
        if sources::is_attacker_placeholder(placeholder.expression) {
            return Some(self.attacker_or_unknown(written));
        }
        if sources::is_header_placeholder(placeholder.expression) {
            return Some(if self.exposure.trigger == Trigger::Incoming {
                Taint::Attacker {
                    source: written.to_owned(),
                }
            } else {
                Taint::ForgeHeader {
                    source: written.to_owned(),
                }
            });
        }
        None
    }

    /// Event text is the attacker's only when an outsider's event starts the run; on a push
    /// the pusher chose it, which makes it as good as an unknown value.
    fn attacker_or_unknown(&self, source: &str) -> Taint {
        if self.exposure.is_external() {
            Taint::Attacker {
                source: source.to_owned(),
            }
        } else {
            Taint::Unknown
        }
    }

    fn child(self: &Rc<Scope>, params: Vec<(String, Taint)>, inline: bool) -> Rc<Scope> {
        Rc::new(Scope {
            exposure: Rc::clone(&self.exposure),
            params,
            trigger_params: Rc::clone(&self.trigger_params),
            parent: inline.then(|| Rc::clone(self)),
            run: self.run.clone(),
        })
    }
}

/// Every scalar of a value (array and object params hold several).
fn scalars(node: &Node) -> Vec<&Node> {
    match (&node.value, node.as_sequence(), node.as_mapping()) {
        (_, Some(items), _) => items.iter().flat_map(scalars).collect(),
        (_, _, Some(mapping)) => mapping.iter().flat_map(|(_, v)| scalars(v)).collect(),
        _ => vec![node],
    }
}

/// Something a rule looks at.
#[derive(Debug)]
pub enum Visit<'a> {
    /// A task body (a `Task`'s spec, an inline `taskSpec`) in a scope.
    Task {
        path: &'a str,
        /// "task `build` of PipelineRun `pr`".
        owner: String,
        spec: TaskSpec<'a>,
        scope: Rc<Scope>,
    },
    /// A `StepAction`: one step.
    StepAction {
        path: &'a str,
        owner: String,
        step: Step<'a>,
        scope: Rc<Scope>,
    },
    /// A `taskRef`, `pipelineRef` or step `ref`.
    Reference {
        path: &'a str,
        owner: String,
        reference: Ref<'a>,
    },
    /// A `PipelineRun` or `TaskRun` (its workspaces and pod template).
    Run {
        path: &'a str,
        resource: Resource<'a>,
        scope: Rc<Scope>,
    },
}

/// Walks the whole repository.
pub fn walk<'a>(repository: &'a Repository<'a>) -> Vec<Visit<'a>> {
    let mut walker = Walker {
        repository,
        visits: Vec::new(),
        unresolved: Vec::new(),
    };
    let mut unanalysed: Vec<&str> = Vec::new();
    for entry in &repository.entries {
        if entry.resource.kind == Kind::Other {
            unanalysed.push(entry.resource.kind_name);
        }
        walker.resource(entry.path, entry.resource, Scope::standalone(), 0, None);
    }
    if !unanalysed.is_empty() {
        unanalysed.sort_unstable();
        unanalysed.dedup();
        log::warn(&format!(
            "Tekton kinds the pack does not analyse (custom tasks and the like): {}",
            unanalysed.join(", ")
        ));
    }
    if !walker.unresolved.is_empty() {
        walker.unresolved.sort();
        walker.unresolved.dedup();
        let shown: Vec<&str> = walker
            .unresolved
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        log::warn(&format!(
            "{} local references name objects that are not in the scan (installed in the \
             cluster?), so what they run is not analysed: {}{}",
            walker.unresolved.len(),
            shown.join(", "),
            if walker.unresolved.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        ));
    }
    walker.visits
}

struct Walker<'r, 'a> {
    repository: &'r Repository<'a>,
    visits: Vec<Visit<'a>>,
    /// Local references to objects the scan does not contain, for one summary warning.
    unresolved: Vec<String>,
}

impl<'a> Walker<'_, 'a> {
    fn resource(
        &mut self,
        path: &'a str,
        resource: Resource<'a>,
        outer: Rc<Scope>,
        depth: usize,
        template: Option<&Resource<'a>>,
    ) {
        let Some(spec) = resource.spec() else { return };
        let owner = resource.label();
        match resource.kind {
            Kind::Task | Kind::ClusterTask => {
                // Reached by the top-level loop: params unknown.
                self.task(path, owner, TaskSpec { node: spec }, outer, depth);
            }
            Kind::StepAction => self.visits.push(Visit::StepAction {
                path,
                owner,
                step: Step::new(spec, "StepAction"),
                scope: outer,
            }),
            Kind::Pipeline => self.pipeline(path, &owner, spec, outer, depth),
            Kind::PipelineRun | Kind::TaskRun => {
                let scope = self.run_scope(path, &resource, &outer, template);
                self.visits.push(Visit::Run {
                    path,
                    resource,
                    scope: Rc::clone(&scope),
                });
                self.run(path, &resource, spec, &scope, depth);
            }
            Kind::TriggerTemplate => {
                let trigger_params = Rc::new(self.trigger_params(spec));
                let scope = Rc::new(Scope {
                    exposure: Rc::new(Exposure::webhook(
                        path,
                        &resource,
                        self.repository.listeners(resource.name),
                    )),
                    params: Vec::new(),
                    trigger_params,
                    parent: None,
                    run: None,
                });
                let templates = spec
                    .get("resourcetemplates")
                    .or_else(|| spec.get("resourceTemplates"));
                for item in items(templates) {
                    if let Some(nested) = Resource::recognise(item) {
                        self.resource(path, nested, Rc::clone(&scope), depth + 1, Some(&resource));
                    }
                }
            }
            _ => {}
        }
    }

    /// `$(tt.params.x)` taints from the scan's bindings.
    fn trigger_params(&self, spec: &'a Node) -> Vec<(String, Taint)> {
        params_of(spec)
            .iter()
            .map(|param| {
                let taint = match self.repository.binding(param.name) {
                    Some(binding) => match &binding.attacker {
                        Some(source) => Taint::Attacker {
                            source: source.clone(),
                        },
                        None => Taint::Constant,
                    },
                    // The binding is not in the scan: it may well map event text.
                    None => Taint::Unknown,
                };
                (param.name.to_owned(), taint)
            })
            .collect()
    }

    fn run_scope(
        &self,
        path: &'a str,
        resource: &Resource<'a>,
        outer: &Rc<Scope>,
        template: Option<&Resource<'a>>,
    ) -> Rc<Scope> {
        let exposure = if template.is_some() {
            Rc::clone(&outer.exposure)
        } else {
            Rc::new(Exposure::of_run(path, resource))
        };
        // The run's params are evaluated with PaC placeholders and trigger params in view.
        let evaluating = Rc::new(Scope {
            exposure: Rc::clone(&exposure),
            params: Vec::new(),
            trigger_params: Rc::clone(&outer.trigger_params),
            parent: None,
            run: None,
        });
        let params = resource
            .spec()
            .map(|spec| bindings_of(spec.get("params")))
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), evaluating.taint_of(value)))
            .collect();
        Rc::new(Scope {
            exposure,
            params,
            trigger_params: Rc::clone(&outer.trigger_params),
            parent: None,
            run: Some(Rc::new(RunInfo {
                path: path.to_owned(),
                label: resource.label(),
                span: resource
                    .node
                    .get("kind")
                    .map_or(resource.node.span, |k| k.span),
            })),
        })
    }

    fn run(
        &mut self,
        path: &'a str,
        resource: &Resource<'a>,
        spec: &'a Node,
        scope: &Rc<Scope>,
        depth: usize,
    ) {
        let owner = resource.label();
        if let Some(inline) = spec.get("pipelineSpec") {
            let declared = params_of(inline);
            let pipeline_scope = scope.child(self.declared(&declared, &[], scope, true), true);
            self.pipeline(path, &owner, inline, pipeline_scope, depth);
        }
        if let Some(inline) = spec.get("taskSpec") {
            let spec = TaskSpec { node: inline };
            let task_scope = scope.child(self.declared(&spec.params(), &[], scope, true), true);
            self.task(path, owner.clone(), spec, task_scope, depth);
        }
        // A referenced spec receives the run's params as bindings.
        let bindings = bindings_of(spec.get("params"));
        for (key, kind) in [
            ("pipelineRef", KindKey::Pipeline),
            ("taskRef", KindKey::Task),
        ] {
            if let Some(node) = spec.get(key) {
                self.reference(path, &owner, Ref { node }, kind, &bindings, scope, depth);
            }
        }
    }

    fn pipeline(
        &mut self,
        path: &'a str,
        owner: &str,
        spec: &'a Node,
        scope: Rc<Scope>,
        depth: usize,
    ) {
        for pipeline_task in items(spec.get("tasks"))
            .iter()
            .chain(items(spec.get("finally")))
        {
            let name = pipeline_task
                .get("name")
                .and_then(Node::as_str)
                .unwrap_or("(unnamed)");
            let task_owner = format!("task `{name}` of {owner}");
            let mut bindings = bindings_of(pipeline_task.get("params"));
            // A matrix fans the task out over its values: each one is a binding too.
            if let Some(matrix) = pipeline_task.get("matrix") {
                bindings.extend(bindings_of(matrix.get("params")));
                for include in items(matrix.get("include")) {
                    bindings.extend(bindings_of(include.get("params")));
                }
            }
            if let Some(inline) = pipeline_task.get("taskSpec") {
                let spec = TaskSpec { node: inline };
                let params = self.declared(&spec.params(), &bindings, &scope, true);
                self.task(
                    path,
                    task_owner.clone(),
                    spec,
                    scope.child(params, true),
                    depth,
                );
            }
            if let Some(inline) = pipeline_task.get("pipelineSpec") {
                let params = self.declared(&params_of(inline), &bindings, &scope, true);
                self.pipeline(
                    path,
                    &task_owner,
                    inline,
                    scope.child(params, true),
                    depth + 1,
                );
            }
            for (key, kind) in [
                ("taskRef", KindKey::Task),
                ("pipelineRef", KindKey::Pipeline),
            ] {
                if let Some(node) = pipeline_task.get(key) {
                    let reference = Ref { node };
                    self.reference(path, &task_owner, reference, kind, &bindings, &scope, depth);
                }
            }
        }
    }

    fn task(
        &mut self,
        path: &'a str,
        owner: String,
        spec: TaskSpec<'a>,
        scope: Rc<Scope>,
        depth: usize,
    ) {
        self.step_refs(path, &owner, spec, &scope, depth);
        self.visits.push(Visit::Task {
            path,
            owner,
            spec,
            scope,
        });
    }

    /// Steps that run a StepAction (`ref:`): the reference, and a local StepAction with the
    /// params the step passes.
    fn step_refs(
        &mut self,
        path: &'a str,
        owner: &str,
        spec: TaskSpec<'a>,
        scope: &Rc<Scope>,
        depth: usize,
    ) {
        for step in spec.steps() {
            if let Some(reference) = step.reference() {
                let bindings = bindings_of(step.node.get("params"));
                let step_owner = step.place(owner);
                self.reference(
                    path,
                    &step_owner,
                    reference,
                    KindKey::StepAction,
                    &bindings,
                    scope,
                    depth,
                );
            }
        }
    }

    /// Taints of the params a spec declares, bound from `bindings` (evaluated in `outer`),
    /// else their defaults; bindings of undeclared names are kept too (inline specs may use
    /// them).
    fn declared(
        &self,
        declared: &[Param<'a>],
        bindings: &[(&str, &'a Node)],
        outer: &Rc<Scope>,
        inline: bool,
    ) -> Vec<(String, Taint)> {
        let mut params: Vec<(String, Taint)> = bindings
            .iter()
            .map(|(name, value)| ((*name).to_owned(), outer.taint_of(value)))
            .collect();
        for param in declared {
            if params.iter().any(|(n, _)| n == param.name) {
                continue;
            }
            // Outside a run nothing binds the param: whoever runs the definition chooses its
            // value, whatever the default says.
            if outer.run.is_none() {
                params.push((param.name.to_owned(), Taint::Unknown));
                continue;
            }
            // Inline specs inherit an unbound param from their run (propagation), so only
            // defaults are recorded here; without a default the parent decides.
            if let Some(default) = param.default() {
                let taint = match (inline, outer.param(param.name)) {
                    // A run value overrides the default of a propagated param.
                    (true, Taint::Unknown) | (false, _) => outer.taint_of(default),
                    (true, bound) => bound,
                };
                params.push((param.name.to_owned(), taint));
            } else if !inline {
                params.push((param.name.to_owned(), Taint::Unknown));
            }
        }
        params
    }

    #[allow(clippy::too_many_arguments)]
    fn reference(
        &mut self,
        path: &'a str,
        owner: &str,
        reference: Ref<'a>,
        kind: KindKey,
        bindings: &[(&str, &'a Node)],
        scope: &Rc<Scope>,
        depth: usize,
    ) {
        self.visits.push(Visit::Reference {
            path,
            owner: owner.to_owned(),
            reference,
        });
        if !reference.is_local() {
            return;
        }
        let Some(name) = reference.name().and_then(Node::as_str) else {
            return;
        };
        let Some(entry) = self.repository.find(kind, name, path) else {
            // Installed in the cluster, not part of the scan.
            self.unresolved.push(format!("{path}: `{name}`"));
            return;
        };
        if depth >= MAX_DEPTH {
            log::warn(&format!(
                "{path}: references nested deeper than {MAX_DEPTH} levels at `{name}`; not followed"
            ));
            return;
        }
        let Some(target_spec) = entry.resource.spec() else {
            return;
        };
        let declared = params_of(target_spec);
        // Referenced specs see only what is passed to them.
        let params = self.declared(&declared, bindings, scope, false);
        let inner = scope.child(params, false);
        let target_owner = format!("{} (used by {owner})", entry.resource.label());
        match kind {
            KindKey::Task => {
                self.task(
                    entry.path,
                    target_owner,
                    TaskSpec { node: target_spec },
                    inner,
                    depth + 1,
                );
            }
            KindKey::Pipeline => {
                self.pipeline(entry.path, &target_owner, target_spec, inner, depth + 1);
            }
            KindKey::StepAction => self.visits.push(Visit::StepAction {
                path: entry.path,
                owner: target_owner,
                step: Step::new(target_spec, "StepAction"),
                scope: inner,
            }),
        }
    }
}
