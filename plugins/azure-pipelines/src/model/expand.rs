//! Expands one pipeline (or standalone template) into jobs and steps, following templates.

use std::collections::HashSet;
use std::rc::Rc;

use sluice_pack_sdk::log;
use sluice_pack_sdk::yaml::{Node, Value};

use super::params::{Origin, Params, Resolved};
use super::pool::{self, Pool};
use super::repository::{Files, Target, target};
use super::triggers::Triggers;
use super::yaml_ext::{self, is_insertion, is_insertion_only};
use super::{
    Condition, ContainerResource, Group, Job, Loc, RepositoryResource, RepositoryUse, Step, Unit,
    Variable,
};
use crate::expressions::{sole_parameter, template_body};

/// Deepest template nesting followed (Azure itself stops at 100 files and 20 levels).
const MAX_TEMPLATE_DEPTH: usize = 20;
/// Most sequence items one unit may expand, so a pathological repository stays cheap.
const MAX_ITEMS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Stages,
    Jobs,
    Steps,
}

impl Level {
    fn key(self) -> &'static str {
        match self {
            Level::Stages => "stages",
            Level::Jobs => "jobs",
            Level::Steps => "steps",
        }
    }
}

/// What a place inherits from the places around it.
#[derive(Debug, Clone)]
struct Ctx<'a> {
    params: Rc<Params<'a>>,
    pool: Pool<'a>,
    conditions: Vec<Condition<'a>>,
    groups: Vec<Group<'a>>,
    variables: Vec<Variable<'a>>,
    stage: Option<String>,
}

struct Expander<'a, 'f> {
    files: &'f Files<'a>,
    unit: Unit<'a>,
    stack: Vec<&'a str>,
    consumed: HashSet<*const Node>,
    seen_variables: HashSet<*const Node>,
    items: usize,
}

/// Expands the file at `path`. A `standalone_template` has no caller: its triggers and the
/// values of its parameters are unknown.
pub fn expand<'a>(
    files: &Files<'a>,
    path: &'a str,
    root: &'a Node,
    standalone_template: bool,
) -> Unit<'a> {
    let triggers = if standalone_template {
        Triggers::unknown()
    } else {
        Triggers::of_pipeline(root)
    };
    let origin = if standalone_template {
        Origin::StandaloneTemplate
    } else {
        Origin::Pipeline
    };
    let params = Params::root(path, root, origin);
    let mut expander = Expander {
        files,
        unit: Unit {
            path,
            root,
            standalone_template,
            triggers,
            jobs: Vec::new(),
            repositories: Vec::new(),
            containers: Vec::new(),
            repository_uses: Vec::new(),
            all_variables: Vec::new(),
            reached: Vec::new(),
        },
        stack: vec![path],
        consumed: HashSet::new(),
        seen_variables: HashSet::new(),
        items: 0,
    };
    expander.resources(path, root);
    let pool = yaml_ext::get(root, "pool")
        .and_then(|p| pool::classify(path, p, &params))
        .unwrap_or_else(Pool::default_hosted);
    let mut ctx = Ctx {
        params,
        pool,
        conditions: Vec::new(),
        groups: Vec::new(),
        variables: Vec::new(),
        stage: None,
    };
    if let Some(variables) = yaml_ext::get(root, "variables") {
        expander.variables(
            Loc {
                path,
                node: variables,
            },
            &mut ctx,
        );
    }
    expander.body(path, root, &ctx);
    if let Some(extends) = yaml_ext::get(root, "extends") {
        expander.extends(path, extends, &ctx);
    }
    expander.unit
}

impl<'a> Expander<'a, '_> {
    /// `stages:`, `jobs:` and `steps:` of a pipeline or extends template root.
    fn body(&mut self, path: &'a str, root: &'a Node, ctx: &Ctx<'a>) {
        if let Some(stages) = yaml_ext::get(root, "stages") {
            self.sequence(
                Level::Stages,
                Loc { path, node: stages },
                ctx,
                &mut Vec::new(),
            );
        }
        if let Some(jobs) = yaml_ext::get(root, "jobs") {
            self.sequence(Level::Jobs, Loc { path, node: jobs }, ctx, &mut Vec::new());
        }
        if let Some((key, steps)) = yaml_ext::entry(root, "steps") {
            self.implicit_job(path, key, steps, "(pipeline steps)".to_owned(), ctx);
        }
    }

    /// A job holding steps written outside any job (root `steps:`, steps passed to a template
    /// we cannot read).
    fn implicit_job(
        &mut self,
        path: &'a str,
        key: &'a Node,
        steps_node: &'a Node,
        id: String,
        ctx: &Ctx<'a>,
    ) {
        let mut steps = Vec::new();
        self.sequence(
            Level::Steps,
            Loc {
                path,
                node: steps_node,
            },
            ctx,
            &mut steps,
        );
        self.unit.jobs.push(Job {
            path,
            id,
            anchor: key.span,
            stage: ctx.stage.clone(),
            deployment: false,
            environment: None,
            pool: ctx.pool.clone(),
            conditions: ctx.conditions.clone(),
            groups: ctx.groups.clone(),
            variables: ctx.variables.clone(),
            container: None,
            services: Vec::new(),
            steps,
        });
    }

    fn extends(&mut self, path: &'a str, extends: &'a Node, ctx: &Ctx<'a>) {
        let Some(template_node) = yaml_ext::get(extends, "template") else {
            return;
        };
        let parameters = yaml_ext::get(extends, "parameters");
        let reference = template_node.as_str().unwrap_or_default();
        match target(path, reference) {
            Target::Local(file) => match self.files.find(&file) {
                Some((template_path, template_root)) if !self.stack.contains(&template_path) => {
                    self.unit.reached.push(template_path);
                    let mut inner = ctx.clone();
                    inner.params = Params::template(
                        template_path,
                        template_root,
                        path,
                        parameters,
                        &ctx.params,
                    );
                    if let Some(variables) = yaml_ext::get(template_root, "variables") {
                        self.variables(
                            Loc {
                                path: template_path,
                                node: variables,
                            },
                            &mut inner,
                        );
                    }
                    self.stack.push(template_path);
                    self.body(template_path, template_root, &inner);
                    // A local template may itself extend another (often a remote one).
                    if let Some(nested) = yaml_ext::get(template_root, "extends") {
                        self.extends(template_path, nested, &inner);
                    }
                    self.stack.pop();
                    self.passed_code(Level::Stages, path, parameters, ctx, &mut Vec::new(), true);
                }
                _ => {
                    log::warn(&format!(
                        "{path}: extends template `{reference}` is not among the scanned files; \
                         analysing the stages, jobs and steps passed to it"
                    ));
                    self.passed_code(Level::Stages, path, parameters, ctx, &mut Vec::new(), false);
                }
            },
            Target::Remote { alias, .. } => {
                self.unit.repository_uses.push(RepositoryUse {
                    path,
                    alias: alias.to_owned(),
                    node: template_node,
                    kind: "template",
                });
                self.passed_code(Level::Stages, path, parameters, ctx, &mut Vec::new(), false);
            }
            Target::Dynamic => {
                self.passed_code(Level::Stages, path, parameters, ctx, &mut Vec::new(), false);
            }
        }
    }

    fn resources(&mut self, path: &'a str, root: &'a Node) {
        let Some(resources) = yaml_ext::get(root, "resources") else {
            return;
        };
        for item in yaml_ext::get(resources, "repositories")
            .and_then(Node::as_sequence)
            .unwrap_or_default()
        {
            if let Some(alias) = yaml_ext::get(item, "repository") {
                self.unit.repositories.push(RepositoryResource {
                    path,
                    alias,
                    name: yaml_ext::get(item, "name"),
                    reference: yaml_ext::get(item, "ref"),
                });
            }
        }
        for item in yaml_ext::get(resources, "containers")
            .and_then(Node::as_sequence)
            .unwrap_or_default()
        {
            if let Some(alias) = yaml_ext::get_str(item, "container") {
                self.unit.containers.push(ContainerResource {
                    path,
                    alias,
                    image: yaml_ext::get(item, "image"),
                });
            }
        }
    }

    /// Expands a list of stages, jobs or steps.
    fn sequence(&mut self, level: Level, value: Loc<'a>, ctx: &Ctx<'a>, out: &mut Vec<Step<'a>>) {
        match &value.node.value {
            Value::Sequence(items) => {
                for item in items {
                    self.item(
                        level,
                        Loc {
                            path: value.path,
                            node: item,
                        },
                        ctx,
                        out,
                    );
                }
            }
            Value::Scalar(scalar) => self.splice(level, value.path, &scalar.text, ctx, out),
            Value::Mapping(mapping) if is_insertion_only(value.node) => {
                for (key, inner) in mapping.iter() {
                    self.insertion(level, value.path, key, inner, ctx, out);
                }
            }
            Value::Mapping(_) | Value::Null => {}
        }
    }

    fn item(&mut self, level: Level, item: Loc<'a>, ctx: &Ctx<'a>, out: &mut Vec<Step<'a>>) {
        self.items += 1;
        if self.items > MAX_ITEMS {
            if self.items == MAX_ITEMS + 1 {
                log::warn(&format!(
                    "{}: expansion stopped after {MAX_ITEMS} items",
                    self.unit.path
                ));
            }
            return;
        }
        if let Some(mapping) = item.node.as_mapping()
            && is_insertion_only(item.node)
        {
            for (key, inner) in mapping.iter() {
                self.insertion(level, item.path, key, inner, ctx, out);
            }
            return;
        }
        if let Some(text) = item.node.as_str() {
            self.splice(level, item.path, text, ctx, out);
            return;
        }
        if item.node.as_mapping().is_none() {
            return;
        }
        if let Some((key, template)) = yaml_ext::entry(item.node, "template")
            && !is_insertion(key)
        {
            self.template(level, item, template, ctx, out);
            return;
        }
        match level {
            Level::Stages => self.stage(item, ctx),
            Level::Jobs => self.job(item, ctx),
            Level::Steps => {
                let mut conditions = ctx.conditions.clone();
                push_condition(&mut conditions, item);
                out.push(Step {
                    path: item.path,
                    node: item.node,
                    params: Rc::clone(&ctx.params),
                    conditions,
                });
            }
        }
    }

    /// `${{ if … }}:` / `${{ else }}:` / `${{ each x in … }}:` inserting items.
    fn insertion(
        &mut self,
        level: Level,
        path: &'a str,
        key: &'a Node,
        value: &'a Node,
        ctx: &Ctx<'a>,
        out: &mut Vec<Step<'a>>,
    ) {
        let text = key.as_str().unwrap_or_default();
        let body = template_body(text.trim());
        let mut inner = ctx.clone();
        if let Some(rest) = body.strip_prefix("each ") {
            if let Some((variable, collection)) = rest.split_once(" in ") {
                let collection = collection.trim();
                let bound = match sole_parameter(&format!("${{{{ {collection} }}}}")) {
                    Some(name) => match ctx.params.resolve(name) {
                        Resolved::Value(value) => Some(value),
                        Resolved::Unknown(..) => None,
                    },
                    None => ctx.params.loop_value(collection).cloned(),
                };
                if let Some(value) = bound {
                    inner.params = ctx.params.with_loop(variable.trim(), value);
                }
            }
        } else {
            inner.conditions.push(Condition {
                path,
                text,
                span: key.span,
            });
        }
        self.sequence(level, Loc { path, node: value }, &inner, out);
    }

    /// `- ${{ parameters.steps }}` or `- ${{ step }}` inside `${{ each step in … }}`.
    fn splice(
        &mut self,
        level: Level,
        path: &'a str,
        text: &str,
        ctx: &Ctx<'a>,
        out: &mut Vec<Step<'a>>,
    ) {
        let value = if let Some(name) = sole_parameter(text) {
            match ctx.params.resolve(name) {
                Resolved::Value(value) => Some(value),
                Resolved::Unknown(..) => None,
            }
        } else {
            let body = template_body(text.trim());
            ctx.params.loop_value(body).cloned()
        };
        let Some(value) = value else {
            log::debug(&format!(
                "{path}: `{}` inserts items not written in the scanned files",
                text.trim()
            ));
            return;
        };
        self.consumed.insert(std::ptr::from_ref(value.loc.node));
        let mut inner = ctx.clone();
        inner.params = Rc::clone(&value.scope);
        if value.loc.node.as_mapping().is_some() && !is_insertion_only(value.loc.node) {
            self.item(level, value.loc, &inner, out);
        } else {
            self.sequence(level, value.loc, &inner, out);
        }
    }

    fn template(
        &mut self,
        level: Level,
        item: Loc<'a>,
        template_node: &'a Node,
        ctx: &Ctx<'a>,
        out: &mut Vec<Step<'a>>,
    ) {
        let parameters = yaml_ext::get(item.node, "parameters");
        let Some(reference) = template_node.as_str() else {
            return;
        };
        match target(item.path, reference) {
            Target::Remote { alias, .. } => {
                self.unit.repository_uses.push(RepositoryUse {
                    path: item.path,
                    alias: alias.to_owned(),
                    node: template_node,
                    kind: "template",
                });
                self.passed_code(level, item.path, parameters, ctx, out, false);
            }
            Target::Dynamic => {
                log::debug(&format!(
                    "{}: template `{reference}` is chosen at compile time",
                    item.path
                ));
                self.passed_code(level, item.path, parameters, ctx, out, false);
            }
            Target::Local(file) => {
                let Some((template_path, template_root)) = self.files.find(&file) else {
                    log::warn(&format!(
                        "{}: template `{reference}` ({file}) is not among the scanned files; \
                         its steps are not analysed",
                        item.path
                    ));
                    self.passed_code(level, item.path, parameters, ctx, out, false);
                    return;
                };
                if self.stack.contains(&template_path) || self.stack.len() >= MAX_TEMPLATE_DEPTH {
                    log::warn(&format!(
                        "{}: template `{reference}` nests too deep or includes itself",
                        item.path
                    ));
                    return;
                }
                self.unit.reached.push(template_path);
                let mut inner = ctx.clone();
                inner.params = Params::template(
                    template_path,
                    template_root,
                    item.path,
                    parameters,
                    &ctx.params,
                );
                self.stack.push(template_path);
                if let Some(body) = yaml_ext::get(template_root, level.key()) {
                    self.sequence(
                        level,
                        Loc {
                            path: template_path,
                            node: body,
                        },
                        &inner,
                        out,
                    );
                }
                self.stack.pop();
                self.passed_code(level, item.path, parameters, ctx, out, true);
            }
        }
    }

    /// Stages, jobs or steps passed as template parameters that were not (or cannot be)
    /// followed into the template: analysed where they are written, so code handed to a
    /// remote template (`extends: template: x@templates` with `parameters: stages:`) is
    /// still checked.
    fn passed_code(
        &mut self,
        level: Level,
        path: &'a str,
        parameters: Option<&'a Node>,
        ctx: &Ctx<'a>,
        out: &mut Vec<Step<'a>>,
        skip_consumed: bool,
    ) {
        let Some(parameters) = parameters else {
            return;
        };
        self.passed_code_in(level, path, parameters, ctx, out, skip_consumed, 0);
    }

    #[allow(clippy::too_many_arguments)]
    fn passed_code_in(
        &mut self,
        level: Level,
        path: &'a str,
        parameters: &'a Node,
        ctx: &Ctx<'a>,
        out: &mut Vec<Step<'a>>,
        skip_consumed: bool,
        depth: usize,
    ) {
        for (key, value, _) in yaml_ext::entries(parameters) {
            if skip_consumed && self.consumed.contains(&std::ptr::from_ref(value)) {
                continue;
            }
            let name = key.as_str().unwrap_or_default().to_ascii_lowercase();
            match &value.value {
                Value::Sequence(items) => match classify_items(items, &name) {
                    Some(Level::Stages) => {
                        self.sequence(Level::Stages, Loc { path, node: value }, ctx, out);
                    }
                    Some(Level::Jobs) => {
                        self.sequence(Level::Jobs, Loc { path, node: value }, ctx, out);
                    }
                    Some(Level::Steps) if level == Level::Steps => {
                        self.sequence(Level::Steps, Loc { path, node: value }, ctx, out);
                    }
                    Some(Level::Steps) => {
                        let id = format!(
                            "(steps passed as parameter `{}`)",
                            key.as_str().unwrap_or_default()
                        );
                        self.implicit_job(path, key, value, id, ctx);
                    }
                    None => {}
                },
                Value::Mapping(_) if depth < 3 => {
                    self.passed_code_in(level, path, value, ctx, out, skip_consumed, depth + 1);
                }
                _ => {}
            }
        }
    }

    fn stage(&mut self, item: Loc<'a>, ctx: &Ctx<'a>) {
        let mut inner = ctx.clone();
        inner.stage = Some(
            yaml_ext::get_str(item.node, "stage")
                .unwrap_or("(unnamed stage)")
                .to_owned(),
        );
        push_condition(&mut inner.conditions, item);
        if let Some(pool_node) = yaml_ext::get(item.node, "pool")
            && let Some(pool) = pool::classify(item.path, pool_node, &ctx.params)
        {
            inner.pool = pool;
        }
        if let Some(variables) = yaml_ext::get(item.node, "variables") {
            self.variables(
                Loc {
                    path: item.path,
                    node: variables,
                },
                &mut inner,
            );
        }
        if let Some(jobs) = yaml_ext::get(item.node, "jobs") {
            self.sequence(
                Level::Jobs,
                Loc {
                    path: item.path,
                    node: jobs,
                },
                &inner,
                &mut Vec::new(),
            );
        }
    }

    fn job(&mut self, item: Loc<'a>, ctx: &Ctx<'a>) {
        let node = item.node;
        let (name_entry, deployment) = match yaml_ext::entry(node, "deployment") {
            Some(entry) => (Some(entry), true),
            None => (yaml_ext::entry(node, "job"), false),
        };
        let mut id = name_entry
            .and_then(|(_, v)| v.as_str())
            .or_else(|| yaml_ext::get_str(node, "displayName"))
            .unwrap_or("(unnamed job)")
            .to_owned();
        // `job: ${{ parameters.name }}` with the name written by the caller.
        if let Some(name) = sole_parameter(&id)
            && let Resolved::Value(value) = ctx.params.resolve(name)
            && let Some(literal) = value.loc.node.as_str()
        {
            id = literal.trim().to_owned();
        }
        let anchor = match name_entry {
            Some((_, value)) if value.as_str().is_some() => value.span,
            Some((key, _)) => key.span,
            None => node
                .as_mapping()
                .and_then(|m| m.entries.first())
                .map_or(node.span, |e| e.key.span),
        };
        let mut inner = ctx.clone();
        push_condition(&mut inner.conditions, item);
        if let Some(pool_node) = yaml_ext::get(node, "pool")
            && let Some(pool) = pool::classify(item.path, pool_node, &ctx.params)
        {
            inner.pool = pool;
        }
        if let Some(variables) = yaml_ext::get(node, "variables") {
            self.variables(
                Loc {
                    path: item.path,
                    node: variables,
                },
                &mut inner,
            );
        }
        let mut steps = Vec::new();
        if let Some(steps_node) = yaml_ext::get(node, "steps") {
            self.sequence(
                Level::Steps,
                Loc {
                    path: item.path,
                    node: steps_node,
                },
                &inner,
                &mut steps,
            );
        }
        if let Some(strategy) = yaml_ext::get(node, "strategy") {
            for (_, strategy_body, _) in yaml_ext::entries(strategy) {
                for hook in ["preDeploy", "deploy", "routeTraffic", "postRouteTraffic"] {
                    if let Some(hook_steps) =
                        yaml_ext::get(strategy_body, hook).and_then(|h| yaml_ext::get(h, "steps"))
                    {
                        self.sequence(
                            Level::Steps,
                            Loc {
                                path: item.path,
                                node: hook_steps,
                            },
                            &inner,
                            &mut steps,
                        );
                    }
                }
                if let Some(on) = yaml_ext::get(strategy_body, "on") {
                    for outcome in ["failure", "success"] {
                        if let Some(hook_steps) =
                            yaml_ext::get(on, outcome).and_then(|h| yaml_ext::get(h, "steps"))
                        {
                            self.sequence(
                                Level::Steps,
                                Loc {
                                    path: item.path,
                                    node: hook_steps,
                                },
                                &inner,
                                &mut steps,
                            );
                        }
                    }
                }
            }
        }
        let services = yaml_ext::get(node, "services")
            .map(|services| {
                yaml_ext::entries(services)
                    .into_iter()
                    .map(|(_, value, _)| Loc {
                        path: item.path,
                        node: value,
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.unit.jobs.push(Job {
            path: item.path,
            id,
            anchor,
            stage: ctx.stage.clone(),
            deployment,
            environment: if deployment {
                yaml_ext::get(node, "environment").map(|e| Loc {
                    path: item.path,
                    node: e,
                })
            } else {
                None
            },
            pool: inner.pool,
            conditions: inner.conditions,
            groups: inner.groups,
            variables: inner.variables,
            container: yaml_ext::get(node, "container").map(|c| Loc {
                path: item.path,
                node: c,
            }),
            services,
            steps,
        });
    }

    /// A `variables:` block in mapping or list form (`- name/value`, `- group`,
    /// `- template`, insertions).
    fn variables(&mut self, value: Loc<'a>, ctx: &mut Ctx<'a>) {
        self.variables_under(value, ctx, &[]);
    }

    fn variables_under(&mut self, value: Loc<'a>, ctx: &mut Ctx<'a>, conditions: &[Condition<'a>]) {
        match &value.node.value {
            Value::Mapping(_) => {
                for (key, inner, _) in yaml_ext::entries(value.node) {
                    if let Some(name) = key.as_str() {
                        // `name: {value: x, readonly: true}` is accepted by Azure too.
                        let inner = yaml_ext::get(inner, "value").unwrap_or(inner);
                        self.push_variable(
                            ctx,
                            Variable {
                                path: value.path,
                                name,
                                name_node: key,
                                value: inner,
                                params: Rc::clone(&ctx.params),
                            },
                        );
                    }
                }
            }
            Value::Sequence(items) => {
                for item in items {
                    self.variable_item(
                        Loc {
                            path: value.path,
                            node: item,
                        },
                        ctx,
                        conditions,
                    );
                }
            }
            Value::Scalar(_) | Value::Null => {}
        }
    }

    fn variable_item(&mut self, item: Loc<'a>, ctx: &mut Ctx<'a>, conditions: &[Condition<'a>]) {
        if let Some(mapping) = item.node.as_mapping()
            && is_insertion_only(item.node)
        {
            for (key, inner) in mapping.iter() {
                let mut inner_conditions = conditions.to_vec();
                inner_conditions.push(Condition {
                    path: item.path,
                    text: key.as_str().unwrap_or_default(),
                    span: key.span,
                });
                self.variables_under(
                    Loc {
                        path: item.path,
                        node: inner,
                    },
                    ctx,
                    &inner_conditions,
                );
            }
            return;
        }
        if let Some(group) = yaml_ext::get(item.node, "group") {
            ctx.groups.push(Group {
                loc: Loc {
                    path: item.path,
                    node: group,
                },
                conditions: conditions.to_vec(),
            });
            return;
        }
        if let Some(name_node) = yaml_ext::get(item.node, "name")
            && let Some(name) = name_node.as_str()
        {
            if let Some(value) = yaml_ext::get(item.node, "value") {
                self.push_variable(
                    ctx,
                    Variable {
                        path: item.path,
                        name,
                        name_node,
                        value,
                        params: Rc::clone(&ctx.params),
                    },
                );
            }
            return;
        }
        if let Some(template_node) = yaml_ext::get(item.node, "template")
            && let Some(reference) = template_node.as_str()
        {
            match target(item.path, reference) {
                Target::Local(file) => match self.files.find(&file) {
                    Some((template_path, template_root))
                        if !self.stack.contains(&template_path)
                            && self.stack.len() < MAX_TEMPLATE_DEPTH =>
                    {
                        self.unit.reached.push(template_path);
                        let saved = Rc::clone(&ctx.params);
                        ctx.params = Params::template(
                            template_path,
                            template_root,
                            item.path,
                            yaml_ext::get(item.node, "parameters"),
                            &saved,
                        );
                        self.stack.push(template_path);
                        if let Some(variables) = yaml_ext::get(template_root, "variables") {
                            self.variables_under(
                                Loc {
                                    path: template_path,
                                    node: variables,
                                },
                                ctx,
                                conditions,
                            );
                        }
                        self.stack.pop();
                        ctx.params = saved;
                    }
                    _ => log::warn(&format!(
                        "{}: variable template `{reference}` is not among the scanned files",
                        item.path
                    )),
                },
                Target::Remote { alias, .. } => self.unit.repository_uses.push(RepositoryUse {
                    path: item.path,
                    alias: alias.to_owned(),
                    node: template_node,
                    kind: "template",
                }),
                Target::Dynamic => {}
            }
        }
    }

    fn push_variable(&mut self, ctx: &mut Ctx<'a>, variable: Variable<'a>) {
        if self
            .seen_variables
            .insert(std::ptr::from_ref(variable.name_node))
        {
            self.unit.all_variables.push(variable.clone());
        }
        ctx.variables.push(variable);
    }
}

/// A stage's, job's or step's own `condition:`.
fn push_condition<'a>(conditions: &mut Vec<Condition<'a>>, item: Loc<'a>) {
    if let Some(condition) = yaml_ext::get(item.node, "condition")
        && let Some(text) = condition.as_str()
    {
        conditions.push(Condition {
            path: item.path,
            text,
            span: condition.span,
        });
    }
}

/// Keys that make a mapping a step.
const STEP_KEYS: &[&str] = &[
    "script",
    "bash",
    "powershell",
    "pwsh",
    "task",
    "checkout",
    "download",
    "downloadBuild",
    "publish",
    "getPackage",
    "reviewApp",
];

/// What a list passed as a parameter holds.
fn classify_items(items: &[Node], name: &str) -> Option<Level> {
    let mut mappings: Vec<&Node> = Vec::new();
    for item in items {
        if is_insertion_only(item) {
            for (_, inner) in item
                .as_mapping()
                .map(|m| m.iter().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                if let Some(inner_items) = inner.as_sequence() {
                    mappings.extend(inner_items.iter().filter(|i| i.as_mapping().is_some()));
                }
            }
        } else if item.as_mapping().is_some() {
            mappings.push(item);
        }
    }
    if mappings.iter().any(|m| yaml_ext::has(m, "stage")) {
        return Some(Level::Stages);
    }
    if mappings
        .iter()
        .any(|m| yaml_ext::has(m, "job") || yaml_ext::has(m, "deployment"))
    {
        return Some(Level::Jobs);
    }
    if mappings
        .iter()
        .any(|m| STEP_KEYS.iter().any(|k| yaml_ext::has(m, k)))
    {
        return Some(Level::Steps);
    }
    if mappings.iter().any(|m| yaml_ext::has(m, "template")) {
        if name.contains("stage") {
            return Some(Level::Stages);
        }
        if name.contains("job") {
            return Some(Level::Jobs);
        }
        if name.contains("step") {
            return Some(Level::Steps);
        }
    }
    None
}
