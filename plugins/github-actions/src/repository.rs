//! The repository a scan sees, and how local references resolve in it.
//!
//! The host hands the pack every matching file of a repository at once (workflows and action
//! manifests, by repository-relative path). [`Repository`] indexes the recognised ones so
//! rules can follow `uses: ./dir` (a local action) and `uses: ./.github/workflows/x.yml` (a
//! local reusable workflow). A target that is not in the request is simply not followed.
//! Resolution is bounded ([`MAX_DEPTH`] calls deep) and stops at cycles.

use sluice_pack_sdk::Span;
use sluice_pack_sdk::expr;

use crate::contexts::{self, Tier};
use crate::model::{Action, Definition, Job, Map, Step, Uses, Workflow};

/// How many local calls deep resolution follows.
pub const MAX_DEPTH: usize = 4;

/// How many steps one expansion yields at most: a hostile repository whose actions each call
/// the next one many times would otherwise grow exponentially with [`MAX_DEPTH`].
pub const MAX_REACHED: usize = 2048;

/// Every recognised definition of the scan, by path, in request order.
#[derive(Debug, Default)]
pub struct Repository<'a> {
    entries: Vec<(&'a str, Definition<'a>)>,
    /// Each entry's path in the form local references resolve to.
    normalised: Vec<String>,
}

/// One call on the way to a resolved step: the `uses:` that was followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// File holding the `uses:`.
    pub path: String,
    pub span: Span,
    /// Line-independent identity of the `uses:` (its route).
    pub route: String,
    /// The `uses:` value as written.
    pub uses: String,
}

/// An input of a called action or workflow bound to attacker-controlled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Input name, lower-cased (GitHub compares input names case-insensitively).
    pub input: String,
    /// The attacker-controlled context it carries (`github.event.issue.title`).
    pub context: String,
}

/// A step reached through one or more local calls.
#[derive(Debug, Clone)]
pub struct Reached<'r, 'a> {
    /// File holding the step.
    pub path: &'a str,
    /// The job of a called workflow the step belongs to (`None` in a composite action).
    pub job: Option<&'r Job<'a>>,
    pub step: &'r Step<'a>,
    /// Inputs of the step's action or workflow that carry attacker-controlled text.
    pub bindings: Vec<Binding>,
    /// The calls that led here, outermost first.
    pub chain: Vec<Link>,
}

impl<'a> Repository<'a> {
    pub fn new(entries: Vec<(&'a str, Definition<'a>)>) -> Repository<'a> {
        let normalised = entries.iter().map(|(path, _)| normalise(path)).collect();
        Repository {
            entries,
            normalised,
        }
    }

    /// Every definition with its path, in request order.
    pub fn entries(&self) -> impl Iterator<Item = (&'a str, &Definition<'a>)> {
        self.entries
            .iter()
            .map(|(path, definition)| (*path, definition))
    }

    /// The composite action a local `uses: ./dir` names, with its path.
    /// `from` is the path of the file the `uses:` is written in.
    pub fn local_action(&self, from: &str, uses: &str) -> Option<(&'a str, &Action<'a>)> {
        let dir = resolve(from, uses)?;
        let names = if dir.is_empty() {
            ["action.yml".to_owned(), "action.yaml".to_owned()]
        } else {
            [format!("{dir}/action.yml"), format!("{dir}/action.yaml")]
        };
        names.iter().find_map(|name| {
            self.entries.iter().zip(&self.normalised).find_map(
                |((path, definition), normalised)| match definition {
                    Definition::Action(action) if action.is_composite() && normalised == name => {
                        Some((*path, action))
                    }
                    _ => None,
                },
            )
        })
    }

    /// The reusable workflow a local job `uses: ./.github/workflows/x.yml` names, with its
    /// path.
    /// `from` is the path of the file the `uses:` is written in.
    pub fn local_workflow(&self, from: &str, uses: &str) -> Option<(&'a str, &Workflow<'a>)> {
        let file = resolve(from, uses)?;
        self.entries
            .iter()
            .zip(&self.normalised)
            .find_map(|((path, definition), normalised)| match definition {
                Definition::Workflow(workflow) if *normalised == file => Some((*path, workflow)),
                _ => None,
            })
    }

    /// Every job of every workflow that calls the workflow at `path`, with its caller's path.
    pub fn callers(&self, path: &str) -> Vec<(&'a str, &Workflow<'a>, &Job<'a>)> {
        let target = normalise(path);
        let mut found = Vec::new();
        for (caller, definition) in &self.entries {
            let Definition::Workflow(workflow) = definition else {
                continue;
            };
            for job in &workflow.jobs {
                if let Some(uses) = job.uses
                    && resolve(caller, uses.value).is_some_and(|p| p == target)
                {
                    found.push((*caller, workflow, job));
                }
            }
        }
        found
    }

    /// The steps of the local composite action `step` calls, through nested local actions.
    /// `bindings` are the attacker-controlled inputs in effect where `step` is written.
    pub fn expand_action<'r>(
        &'r self,
        path: &'a str,
        step: &Step<'a>,
        bindings: &[Binding],
    ) -> Vec<Reached<'r, 'a>> {
        let mut out = Vec::new();
        self.follow_action(path, step, bindings, &mut Vec::new(), &mut out);
        out
    }

    /// The steps of the local reusable workflow `job` calls: every step of every called job,
    /// through nested local actions and workflows.
    pub fn expand_workflow_call<'r>(
        &'r self,
        path: &'a str,
        job: &Job<'a>,
        bindings: &[Binding],
    ) -> Vec<Reached<'r, 'a>> {
        let mut out = Vec::new();
        self.follow_workflow(path, job, bindings, &mut Vec::new(), &mut out);
        out
    }

    fn follow_action<'r>(
        &'r self,
        path: &'a str,
        step: &Step<'a>,
        bindings: &[Binding],
        chain: &mut Vec<Link>,
        out: &mut Vec<Reached<'r, 'a>>,
    ) {
        let Some(uses) = step.uses else {
            return;
        };
        if chain.len() >= MAX_DEPTH || out.len() >= MAX_REACHED {
            return;
        }
        let Some((target, action)) = self.local_action(path, uses.value) else {
            return;
        };
        if target == path || chain.iter().any(|link| link.path == target) {
            return;
        }
        let Some(runs) = &action.runs else {
            return;
        };
        let inner = bind(&step.with, bindings);
        chain.push(link(path, uses));
        // The action's own steps first, so a cap cuts off the deepest calls, not its steps.
        for inner_step in runs
            .steps
            .iter()
            .take(MAX_REACHED.saturating_sub(out.len()))
        {
            out.push(Reached {
                path: target,
                job: None,
                step: inner_step,
                bindings: inner.clone(),
                chain: chain.clone(),
            });
        }
        for inner_step in &runs.steps {
            self.follow_action(target, inner_step, &inner, chain, out);
        }
        chain.pop();
    }

    fn follow_workflow<'r>(
        &'r self,
        path: &'a str,
        job: &Job<'a>,
        bindings: &[Binding],
        chain: &mut Vec<Link>,
        out: &mut Vec<Reached<'r, 'a>>,
    ) {
        let Some(uses) = job.uses else {
            return;
        };
        if chain.len() >= MAX_DEPTH || out.len() >= MAX_REACHED {
            return;
        }
        let Some((target, workflow)) = self.local_workflow(path, uses.value) else {
            return;
        };
        if target == path || chain.iter().any(|link| link.path == target) {
            return;
        }
        let inner = bind(&job.with, bindings);
        chain.push(link(path, uses));
        // Every called job's own steps first, then the calls they make.
        for called in &workflow.jobs {
            for step in called
                .steps
                .iter()
                .take(MAX_REACHED.saturating_sub(out.len()))
            {
                out.push(Reached {
                    path: target,
                    job: Some(called),
                    step,
                    bindings: inner.clone(),
                    chain: chain.clone(),
                });
            }
        }
        for called in &workflow.jobs {
            for step in &called.steps {
                let start = out.len();
                self.follow_action(target, step, &inner, chain, out);
                for reached in &mut out[start..] {
                    reached.job = reached.job.or(Some(called));
                }
            }
            self.follow_workflow(target, called, &inner, chain, out);
        }
        chain.pop();
    }
}

fn link(path: &str, uses: crate::model::Text<'_>) -> Link {
    Link {
        path: path.to_owned(),
        span: uses.span(),
        route: uses.route().to_string(),
        uses: uses.value.trim().to_owned(),
    }
}

/// The inputs of a `with:` block that carry attacker-controlled text, given the bindings in
/// effect where the block is written.
pub fn bind(with: &Map<'_>, outer: &[Binding]) -> Vec<Binding> {
    with.iter()
        .filter_map(|(key, value)| {
            let context = attacker_context(value.as_str()?, outer)?;
            Some(Binding {
                input: key.value.trim().to_ascii_lowercase(),
                context,
            })
        })
        .collect()
}

/// The first attacker-controlled context (`Tier::Anyone`) that text with `${{ … }}`
/// expressions expands to: a tainted context, or an input bound to one.
pub fn attacker_context(text: &str, bindings: &[Binding]) -> Option<String> {
    for expression in expr::find_expressions(text) {
        for reference in expr::context_refs(expression.text) {
            if !contexts::is_text_position(expression.text, &reference) {
                continue;
            }
            if let Some(binding) = bound_input(&reference.path, bindings) {
                return Some(binding.context.clone());
            }
            let dumped = contexts::is_dumped(expression.text, &reference);
            if contexts::tainted(&reference.path, dumped)
                .iter()
                .any(|t| t.tier == Tier::Anyone)
            {
                return Some(reference.path);
            }
        }
    }
    None
}

/// The binding an `inputs.<name>` reference reads, if it carries attacker text.
pub fn bound_input<'b>(reference: &str, bindings: &'b [Binding]) -> Option<&'b Binding> {
    let lower = reference.to_ascii_lowercase();
    let name = lower.strip_prefix("inputs.")?;
    bindings.iter().find(|b| b.input == name)
}

/// `./a/b/` → `a/b`; `None` for anything that is not a local reference or leaves the
/// repository.
fn local_path(uses: &str) -> Option<String> {
    if !matches!(Uses::parse(uses.trim()), Uses::Local { .. }) {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in uses.trim().split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// A local reference written in the file at `from`, as a repository path. Local references
/// are relative to the root of the checked-out repository; a file under a vendored
/// `sub/project/.github/` belongs to the repository rooted at `sub/project`.
fn resolve(from: &str, uses: &str) -> Option<String> {
    let target = local_path(uses)?;
    let from = normalise(from);
    let root = match from.find("/.github/") {
        Some(at) if !from.starts_with(".github/") => &from[..at],
        _ => "",
    };
    Some(match (root.is_empty(), target.is_empty()) {
        (true, _) => target,
        (false, true) => root.to_owned(),
        (false, false) => format!("{root}/{target}"),
    })
}

/// A request path in the form [`local_path`] produces.
fn normalise(path: &str) -> String {
    path.replace('\\', "/")
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths() {
        assert_eq!(
            local_path("./.github/actions/x").as_deref(),
            Some(".github/actions/x")
        );
        assert_eq!(local_path("./a/b/").as_deref(), Some("a/b"));
        assert_eq!(local_path("./").as_deref(), Some(""));
        assert_eq!(local_path("./../x"), None);
        assert_eq!(local_path("actions/checkout@v4"), None);
        assert_eq!(normalise("./a\\b/action.yml"), "a/b/action.yml");
        assert_eq!(
            resolve("sub/p/.github/workflows/ci.yml", "./.github/actions/x").as_deref(),
            Some("sub/p/.github/actions/x")
        );
        assert_eq!(
            resolve(".github/workflows/ci.yml", "./tools/a").as_deref(),
            Some("tools/a")
        );
    }
}
