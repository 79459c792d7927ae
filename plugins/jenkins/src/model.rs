//! What a Jenkinsfile does, flattened for the rules: every script step with the scope it runs
//! in (stage, change-request gate, agent, credentials bound around it), every credential
//! binding, every agent declaration and every approval (`input`).
//!
//! Declarative (`pipeline { }`) and scripted (`node { stage { } }`) pipelines are walked by
//! the same code: a declarative `steps { }` or `script { }` block holds scripted code, and a
//! scripted file may call `pipeline { }` (shared-library `call` bodies do).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::agents::{self, Agent, AgentKind};
use crate::conditions::{self, Gate, Reach};
use crate::syntax::{Block, Call, Expr, ExprKind, File, visit_calls};
use crate::taint::Taint;

/// The steps that run a script in a shell.
pub const SCRIPT_STEPS: &[&str] = &["sh", "bat", "powershell", "pwsh"];

/// Steps that put credentials into the environment of the steps in their closure.
const BINDING_STEPS: &[&str] = &[
    "withCredentials",
    "sshagent",
    "withAWS",
    "withDockerRegistry",
    "withKubeConfig",
    "withVault",
    "withSonarQubeEnv",
    "withNPM",
    "withMaven",
    "configFileProvider",
];

/// A stage, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Nested stages joined with ` / `.
    pub name: String,
    pub range: Range<usize>,
}

/// Where a step runs.
#[derive(Debug, Clone)]
pub struct Scope {
    pub stage: Option<Stage>,
    pub gate: Gate,
    /// Index into [`Model::agents`].
    pub agent: Option<usize>,
    /// Indices into [`Model::bindings`].
    pub credentials: Vec<usize>,
    /// Inside a `podTemplate`: `node(POD_LABEL)` is the build's own pod.
    in_pod: bool,
}

impl Scope {
    fn root() -> Scope {
        Scope {
            stage: None,
            gate: Gate::UNKNOWN,
            agent: None,
            credentials: Vec::new(),
            in_pod: false,
        }
    }

    /// The stage name for fingerprints and properties.
    pub fn stage_name(&self) -> &str {
        self.stage.as_ref().map_or("", |s| s.name.as_str())
    }

    /// "in stage `x`" or "outside any stage", for messages.
    pub fn whereabouts(&self) -> String {
        self.stage.as_ref().map_or_else(
            || "outside any stage".to_owned(),
            |s| format!("in stage `{}`", s.name),
        )
    }
}

/// A `sh`/`bat`/`powershell`/`pwsh` step.
#[derive(Debug, Clone)]
pub struct ScriptStep<'f> {
    pub call: &'f Call,
    /// The script argument (positional or `script:`).
    pub script: Option<&'f Expr>,
    pub range: Range<usize>,
    pub scope: Scope,
}

/// Credentials bound for a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// How (`credentials('…')`, `withCredentials`, `sshagent`).
    pub how: String,
    /// Credential ids as written (empty when not constant).
    pub ids: Vec<String>,
    pub range: Range<usize>,
    pub stage: Option<String>,
}

/// An `input` approval (step or declarative directive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub range: Range<usize>,
    pub reach: Reach,
}

/// Everything the rules need from one file.
#[derive(Debug)]
pub struct Model<'f> {
    pub file: &'f File,
    /// The file's path, for log messages.
    path: &'f str,
    pub scripts: Vec<ScriptStep<'f>>,
    pub bindings: Vec<Binding>,
    pub agents: Vec<Agent>,
    pub approvals: Vec<Approval>,
    /// The first sign that the pipeline builds change requests at all.
    pub change_request_evidence: Option<Range<usize>>,
    pub taint: Taint,
    /// Methods defined in the file, walked where they are called (with the caller's stage,
    /// gate, agent and credentials) rather than where they are defined.
    functions: BTreeMap<&'f str, &'f Block>,
    /// Methods called somewhere in the file.
    called: BTreeSet<&'f str>,
    /// Methods being walked (recursion guard).
    active: Vec<&'f str>,
    /// Method bodies walked at call sites so far (a budget: calls fan out).
    expansions: usize,
    /// Methods walked at least once.
    walked: BTreeSet<&'f str>,
}

/// How many method bodies one file may expand at call sites; past it, calls are not followed
/// (logged), which keeps a file of many mutually calling helpers linear.
const MAX_EXPANSIONS: usize = 2_000;

/// How deep calls of the file's own methods are followed.
const MAX_CALL_DEPTH: usize = 8;

impl<'f> Model<'f> {
    pub fn build(file: &'f File, path: &'f str) -> Model<'f> {
        let mut model = Model {
            file,
            path,
            scripts: Vec::new(),
            bindings: Vec::new(),
            agents: Vec::new(),
            approvals: Vec::new(),
            change_request_evidence: change_request_evidence(file),
            taint: Taint::collect(file),
            functions: BTreeMap::new(),
            called: BTreeSet::new(),
            active: Vec::new(),
            expansions: 0,
            walked: BTreeSet::new(),
        };
        collect_functions(&file.statements, &mut model.functions);
        let functions = &model.functions;
        let mut called = BTreeSet::new();
        visit_calls(&file.statements, &mut |call| {
            if call.receiver.is_none()
                && let Some((name, _)) = functions.get_key_value(call.name.as_str())
            {
                called.insert(*name);
            }
        });
        model.called = called;
        model.walk_block(&file.statements, &Scope::root());
        // Methods whose calls were not followed (depth, budget) are still analysed once,
        // where they stand.
        let pending: Vec<(&str, &Block)> = model
            .functions
            .iter()
            .filter(|(name, _)| !model.walked.contains(*name))
            .map(|(name, body)| (*name, *body))
            .collect();
        for (name, body) in pending {
            model.walked.insert(name);
            model.active.push(name);
            model.walk_block(body, &Scope::root());
            model.active.pop();
        }
        model
    }

    /// An approval precedes `offset` and is not itself skipped on change requests.
    pub fn approval_before(&self, offset: usize) -> Option<&Approval> {
        self.approvals
            .iter()
            .find(|a| a.range.start < offset && !a.reach.is_excluded())
    }

    fn walk_block(&mut self, block: &'f [Expr], scope: &Scope) {
        for expr in block {
            self.walk_expr(expr, scope);
        }
    }

    fn walk_expr(&mut self, expr: &'f Expr, scope: &Scope) {
        match &expr.kind {
            ExprKind::Call(call) => self.walk_call(call, expr.range.clone(), scope),
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.walk_expr(condition, scope);
                let text = self
                    .file
                    .source
                    .get(condition.range.clone())
                    .unwrap_or_default();
                let reach = conditions::expression(text);
                let mut inner = scope.clone();
                inner.gate = scope
                    .gate
                    .within(reach, condition.range.clone())
                    .with_fork_guard(text, condition.range.clone());
                self.walk_block(then, &inner);
                inner.gate = scope.gate.within(reach.negate(), condition.range.clone());
                self.walk_block(otherwise, &inner);
            }
            ExprKind::Assign { target, value } => {
                self.walk_expr(target, scope);
                self.walk_expr(value, scope);
            }
            ExprKind::Member(object, _) => self.walk_expr(object, scope),
            ExprKind::List(items)
            | ExprKind::Compound(items)
            | ExprKind::Concat(items)
            | ExprKind::Closure(items) => self.walk_block(items, scope),
            ExprKind::Map(entries) => {
                for entry in entries {
                    self.walk_expr(&entry.value, scope);
                }
            }
            ExprKind::Function { name, body } => {
                // A method nobody calls here (a library step's `call`) is analysed where it
                // stands; a called one at each call site. Calls resolve to the first
                // definition of a name, so a later overload is analysed where it stands.
                let expanded_at_calls = self.called.contains(name.as_str())
                    && self
                        .functions
                        .get(name.as_str())
                        .is_some_and(|first| std::ptr::eq(*first, body));
                if !expanded_at_calls {
                    if let Some((name, _)) = self.functions.get_key_value(name.as_str()) {
                        self.walked.insert(*name);
                    }
                    self.walk_block(body, scope);
                }
            }
            ExprKind::Annotation(_)
            | ExprKind::Str(_)
            | ExprKind::Path(_)
            | ExprKind::Number
            | ExprKind::Other => {}
        }
    }

    fn walk_call(&mut self, call: &'f Call, range: Range<usize>, scope: &Scope) {
        let mut inner = scope.clone();
        let plain = call.receiver.is_none();
        match call.name.as_str() {
            "pipeline" if plain && call.closure.is_some() => {
                if let Some(block) = &call.closure {
                    self.declarative(block, scope);
                }
                return;
            }
            name if plain && SCRIPT_STEPS.contains(&name) => {
                self.scripts.push(ScriptStep {
                    call,
                    script: call.named("script").or_else(|| call.positional(0)),
                    range: range.clone(),
                    scope: scope.clone(),
                });
            }
            "node" if plain => {
                let agent = agents::scripted(self.file, call, scope.in_pod);
                self.agents.push(agent);
                inner.agent = Some(self.agents.len() - 1);
            }
            "podTemplate" | "containerTemplate" if plain => inner.in_pod = true,
            "inside" | "withRun" if !plain => {
                if let Some(agent) = agents::inside(self.file, call) {
                    self.agents.push(agent);
                    inner.agent = Some(self.agents.len() - 1);
                }
            }
            // Groovy read from the workspace runs inside the pipeline; this pack does not
            // follow it (the file is usually not a Jenkinsfile the request holds).
            "load" | "evaluate" if plain => {
                let what = call
                    .positional(0)
                    .map_or_else(String::new, |e| format!(" {}", self.text(e)));
                sluice_pack_sdk::log::warn(&format!(
                    "{}: `{}{what}` runs Groovy the Jenkins pack does not analyse",
                    self.path, call.name
                ));
            }
            "stage" if plain => inner.stage = Some(self.stage(call, scope)),
            "input" if plain => self.approvals.push(Approval {
                range: range.clone(),
                reach: scope.gate.reach,
            }),
            name if (BINDING_STEPS.contains(&name) && binds_credentials(call))
                || is_registry_login(call) =>
            {
                let binding = self.binding(call, scope);
                self.bindings.push(binding);
                inner.credentials.push(self.bindings.len() - 1);
            }
            name if plain && self.functions.contains_key(name) => {
                if let Some((name, body)) =
                    self.functions.get_key_value(name).map(|(n, b)| (*n, *b))
                    && !self.active.contains(&name)
                    && self.active.len() < MAX_CALL_DEPTH
                {
                    self.expansions += 1;
                    if self.expansions == MAX_EXPANSIONS {
                        sluice_pack_sdk::log::warn(&format!(
                            "{}: method calls expanded {MAX_EXPANSIONS} times; further calls are \
                             analysed where the methods are defined",
                            self.path
                        ));
                    }
                    if self.expansions >= MAX_EXPANSIONS {
                        return;
                    }
                    self.active.push(name);
                    self.walked.insert(name);
                    self.walk_block(body, scope);
                    self.active.pop();
                }
            }
            _ => {}
        }
        if let Some(receiver) = &call.receiver {
            self.walk_expr(receiver, scope);
        }
        for arg in &call.args {
            self.walk_expr(&arg.value, &inner);
        }
        if let Some(block) = &call.closure {
            self.walk_block(block, &inner);
        }
    }

    fn stage(&self, call: &Call, parent: &Scope) -> Stage {
        let (name, range) = match call.positional(0).or_else(|| call.named("name")) {
            Some(expr) => (
                self.file
                    .constant(expr)
                    .map_or_else(|| unquoted(self.text(expr)).to_owned(), str::to_owned),
                expr.range.clone(),
            ),
            None => ("(unnamed)".to_owned(), call.name_range.clone()),
        };
        let name = match &parent.stage {
            Some(outer) => format!("{} / {name}", outer.name),
            None => name,
        };
        Stage { name, range }
    }

    fn text(&self, expr: &Expr) -> &'f str {
        self.file.source.get(expr.range.clone()).unwrap_or_default()
    }

    fn binding(&self, call: &Call, scope: &Scope) -> Binding {
        let mut ids = Vec::new();
        collect_ids(self.file, &call.args, &mut ids);
        let how = match &call.receiver {
            Some(receiver) => format!("{}.{}", self.text(receiver), call.name),
            None => call.name.clone(),
        };
        Binding {
            how,
            ids,
            range: call
                .receiver
                .as_ref()
                .map_or(call.name_range.start, |r| r.range.start)
                ..call.name_range.end,
            stage: scope.stage.as_ref().map(|s| s.name.clone()),
        }
    }

    /// `pipeline { agent …; environment { }; stages { }; post { } }`.
    fn declarative(&mut self, block: &'f Block, outer: &Scope) {
        let scope = self.stage_settings(block, outer);
        for statement in block {
            let ExprKind::Call(call) = &statement.kind else {
                self.walk_expr(statement, &scope);
                continue;
            };
            match call.name.as_str() {
                "stages" | "parallel" => {
                    if let Some(body) = &call.closure {
                        self.stages(body, &scope);
                    }
                }
                "post" => {
                    if let Some(body) = &call.closure {
                        self.walk_block(body, &scope);
                    }
                }
                // Settings were read above; `options`, `triggers`, `parameters`, `tools` and
                // `libraries` hold no steps.
                _ => {}
            }
        }
    }

    /// `agent`, `when`, `environment` and `input` of a pipeline, stage or matrix.
    fn stage_settings(&mut self, block: &'f Block, outer: &Scope) -> Scope {
        let mut scope = outer.clone();
        for statement in block {
            let ExprKind::Call(call) = &statement.kind else {
                continue;
            };
            match call.name.as_str() {
                "agent" => {
                    let agent = agents::declarative(self.file, call, statement.range.clone());
                    // `agent none` allocates nothing: stages below choose their own.
                    if agent.kind == AgentKind::None {
                        scope.agent = None;
                    } else {
                        self.agents.push(agent);
                        scope.agent = Some(self.agents.len() - 1);
                    }
                }
                "when" => {
                    if let Some(body) = &call.closure {
                        let reach = conditions::when_block(self.file, body);
                        let text = self
                            .file
                            .source
                            .get(statement.range.clone())
                            .unwrap_or_default();
                        scope.gate = scope
                            .gate
                            .within(reach, statement.range.clone())
                            .with_fork_guard(text, statement.range.clone());
                    }
                }
                _ => {}
            }
        }
        for statement in block {
            let ExprKind::Call(call) = &statement.kind else {
                continue;
            };
            match call.name.as_str() {
                "environment" => {
                    for entry in call.closure.iter().flatten() {
                        if let ExprKind::Assign { target, value } = &entry.kind
                            && let Some(binding) = self.environment_binding(target, value, &scope)
                        {
                            self.bindings.push(binding);
                            scope.credentials.push(self.bindings.len() - 1);
                        }
                    }
                }
                "input" => self.approvals.push(Approval {
                    range: statement.range.clone(),
                    reach: scope.gate.reach,
                }),
                _ => {}
            }
        }
        scope
    }

    /// `NAME = credentials('id')` in an `environment` block.
    fn environment_binding(&self, target: &Expr, value: &Expr, scope: &Scope) -> Option<Binding> {
        let ExprKind::Call(call) = &value.kind else {
            return None;
        };
        if call.name != "credentials" {
            return None;
        }
        let ids = call
            .positional(0)
            .map(|e| {
                vec![
                    self.file
                        .constant(e)
                        .map_or_else(|| unquoted(self.text(e)).to_owned(), str::to_owned),
                ]
            })
            .unwrap_or_default();
        Some(Binding {
            how: format!("{} = credentials(…)", self.text(target)),
            ids,
            range: value.range.clone(),
            stage: scope.stage.as_ref().map(|s| s.name.clone()),
        })
    }

    /// The entries of `stages { }` / `parallel { }`.
    fn stages(&mut self, block: &'f Block, scope: &Scope) {
        for statement in block {
            match &statement.kind {
                ExprKind::Call(call) if call.name == "stage" => self.declarative_stage(call, scope),
                _ => self.walk_expr(statement, scope),
            }
        }
    }

    fn declarative_stage(&mut self, call: &'f Call, parent: &Scope) {
        let mut base = parent.clone();
        base.stage = Some(self.stage(call, parent));
        if let Some(body) = &call.closure {
            self.stage_body(body, &base);
        }
    }

    fn stage_body(&mut self, body: &'f Block, base: &Scope) {
        let scope = self.stage_settings(body, base);
        for statement in body {
            let ExprKind::Call(call) = &statement.kind else {
                continue;
            };
            let Some(inner) = &call.closure else {
                continue;
            };
            match call.name.as_str() {
                "steps" | "post" => self.walk_block(inner, &scope),
                "stages" | "parallel" => self.stages(inner, &scope),
                "matrix" => self.stage_body(inner, &scope),
                _ => {}
            }
        }
    }
}

/// `withMaven` and `withNPM` bind credentials only through a settings/npmrc config file.
fn binds_credentials(call: &Call) -> bool {
    match call.name.as_str() {
        "withMaven" | "withNPM" => call.args.iter().any(|a| {
            a.name
                .as_deref()
                .is_some_and(|n| n.contains("Config") || n.contains("credential"))
        }),
        _ => true,
    }
}

/// `docker.withRegistry(url, 'credentials-id') { }` logs in with stored credentials.
fn is_registry_login(call: &Call) -> bool {
    call.name == "withRegistry" && call.args.len() >= 2
}

/// Credential ids in a binding step's arguments: `credentialsId: 'x'`, `sshagent(['x'])`,
/// `docker.withRegistry(url, 'x')`, `withAWS(credentials: 'x')`.
fn collect_ids(file: &File, args: &[crate::syntax::Arg], ids: &mut Vec<String>) {
    for arg in args {
        let named_id = arg.name.as_deref().is_some_and(|n| {
            let n = n.to_ascii_lowercase();
            n.contains("credential") || n.contains("config") || n == "fileid"
        });
        match &arg.value.kind {
            ExprKind::Str(_) if named_id || arg.name.is_none() => {
                let id = file.constant(&arg.value).unwrap_or_else(|| {
                    unquoted(file.source.get(arg.value.range.clone()).unwrap_or_default())
                });
                if !id.is_empty() && !id.contains("://") {
                    ids.push(id.to_owned());
                }
            }
            // An id held in a variable: name the variable.
            ExprKind::Path(_) if named_id => {
                if let Some(text) = file.source.get(arg.value.range.clone()) {
                    ids.push(text.to_owned());
                }
            }
            ExprKind::List(items) => {
                for item in items {
                    match &item.kind {
                        ExprKind::Call(call) => collect_ids(file, &call.args, ids),
                        ExprKind::Map(entries) => collect_ids(file, entries, ids),
                        ExprKind::Str(_) => {
                            if let Some(id) = file.constant(item) {
                                ids.push(id.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            ExprKind::Map(entries) => collect_ids(file, entries, ids),
            ExprKind::Call(call) => collect_ids(file, &call.args, ids),
            _ => {}
        }
    }
}

/// Markers that the pipeline is built for change requests, outside comments.
const CHANGE_REQUEST_MARKERS: &[&str] = &[
    "changeRequest",
    "CHANGE_ID",
    "CHANGE_TARGET",
    "CHANGE_BRANCH",
    "CHANGE_TITLE",
    "CHANGE_URL",
    "CHANGE_AUTHOR",
    "CHANGE_FORK",
    "ghprb",
    "gitlabMergeRequest",
    "'PR-",
    "\"PR-",
    "/PR-",
];

fn change_request_evidence(file: &File) -> Option<Range<usize>> {
    CHANGE_REQUEST_MARKERS
        .iter()
        .filter_map(|marker| {
            file.source
                .match_indices(marker)
                .map(|(at, _)| at..at + marker.len())
                .find(|range| !file.comments.iter().any(|c| c.contains(&range.start)))
        })
        .min_by_key(|r| r.start)
}

/// A string literal's source without its quotes (`"Build ${x}"` → `Build ${x}`).
fn unquoted(text: &str) -> &str {
    let trimmed = text.trim_matches(|c| c == '"' || c == '\'');
    if trimmed.len() < text.len() {
        trimmed
    } else {
        text
    }
}

/// Method definitions of the file (top level and inside classes); the first of a name wins.
fn collect_functions<'f>(block: &'f [Expr], functions: &mut BTreeMap<&'f str, &'f Block>) {
    for expr in block {
        match &expr.kind {
            ExprKind::Function { name, body } => {
                functions.entry(name.as_str()).or_insert(body);
            }
            ExprKind::Closure(items) => collect_functions(items, functions),
            _ => {}
        }
    }
}
