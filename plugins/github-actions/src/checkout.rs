//! Finding where a job puts pull request (fork) code on disk.
//!
//! Two ways: `actions/checkout` with a `ref:` (or `repository:`) naming the pull request head,
//! and scripts that fetch and check out the head themselves (`gh pr checkout`,
//! `git fetch origin pull/N/head` followed by `git checkout FETCH_HEAD`, …).

use std::cell::Cell;

use sluice_pack_sdk::Span;
use sluice_pack_sdk::expr;

use crate::contexts;
use crate::model::{Job, Step, Text, Workflow};
use crate::shell::{self, Command};

/// Where and how fork code lands in the workspace.
#[derive(Debug, Clone)]
pub struct ForkCheckout<'s, 'a> {
    /// The step that checks out.
    pub step: &'s Step<'a>,
    pub method: Method,
    /// The `ref:`/`repository:` value or the command, for findings.
    pub span: Span,
    /// Route of the node the span is in, for fingerprints.
    pub route: String,
    /// The `ref:` value or the command text.
    pub reference: String,
    /// Privileged events under which this names fork code; empty means any of them.
    pub events: Vec<&'static str>,
    /// Workspace-relative directory holding fork code ("" = the workspace root).
    pub path: String,
    /// For scripts: the byte offset in the `run:` text after the checkout command; later
    /// commands of the same script run on the fork code.
    pub script_rest: Option<usize>,
    /// `allow-unsafe-pr-checkout: true` was given to `actions/checkout`.
    pub unsafe_opt_in: bool,
}

/// How the checkout happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `actions/checkout` with a pull request ref.
    Action,
    /// A `git`/`gh` command in a `run:` script.
    Script,
}

/// A checkout of trusted code (the base branch, the default branch, the workflow's commit).
#[derive(Debug, Clone)]
pub struct TrustedCheckout {
    pub step_index: usize,
    pub path: String,
}

/// Every fork checkout of the job, in step order.
pub fn fork_checkouts<'s, 'a>(
    workflow: &'s Workflow<'a>,
    job: &'s Job<'a>,
) -> Vec<ForkCheckout<'s, 'a>> {
    let budget = Cell::new(RESOLUTION_BUDGET);
    fork_checkouts_at_depth(workflow, job, 0, &budget)
}

fn fork_checkouts_at_depth<'s, 'a>(
    workflow: &'s Workflow<'a>,
    job: &'s Job<'a>,
    depth: u8,
    budget: &Cell<u32>,
) -> Vec<ForkCheckout<'s, 'a>> {
    let mut found = Vec::new();
    let mut script = ScriptState::default();
    for step in &job.steps {
        let resolver = Resolver {
            workflow,
            job,
            step,
            depth,
            budget,
        };
        if is_checkout_action(step) {
            if let Some(checkout) = action_checkout(step, &resolver) {
                found.push(checkout);
            }
        } else if let Some(run) = step.run {
            let cwd = step_directory(workflow, job, step);
            found.extend(script.scan(step, run, cwd, &resolver));
        }
    }
    found
}

/// `actions/checkout` steps that check out trusted code.
pub fn trusted_checkouts(workflow: &Workflow<'_>, job: &Job<'_>) -> Vec<TrustedCheckout> {
    let budget = Cell::new(RESOLUTION_BUDGET);
    job.steps
        .iter()
        .filter(|step| {
            let resolver = Resolver {
                workflow,
                job,
                step,
                depth: 0,
                budget: &budget,
            };
            is_checkout_action(step) && action_checkout(step, &resolver).is_none()
        })
        .map(|step| TrustedCheckout {
            step_index: step.index,
            path: step
                .with
                .text("path")
                .and_then(|p| workspace_path(p.value, ""))
                .unwrap_or_default(),
        })
        .collect()
}

pub fn is_checkout_action(step: &Step<'_>) -> bool {
    step.uses_action("actions/checkout")
}

fn action_checkout<'s, 'a>(
    step: &'s Step<'a>,
    resolver: &Resolver<'_, '_>,
) -> Option<ForkCheckout<'s, 'a>> {
    let git_ref = step.with.text("ref");
    let repository = step.with.text("repository");
    let from_ref = git_ref.and_then(|r| resolver.pr_head_events(r.value));
    let from_repository = repository.and_then(|r| {
        resolver.matching_events(r.value, &|path, expression| {
            contexts::pr_head_repository_events(path)
                .or_else(|| resolver.derived_events(path, expression))
        })
    });
    // The ref decides what is checked out; a fork repository with no ref still gives fork
    // code (its default branch).
    let (events, shown): (Vec<&'static str>, Text<'a>) = match (from_ref, from_repository) {
        (Some(events), _) => (events, git_ref?),
        (None, Some(events)) => (events, repository?),
        (None, None) => return None,
    };
    let unsafe_opt_in = step
        .with
        .text("allow-unsafe-pr-checkout")
        .is_some_and(|v| v.value.trim() == "true");
    Some(ForkCheckout {
        step,
        method: Method::Action,
        span: shown.span(),
        route: shown.route().to_string(),
        reference: shown.value.trim().to_owned(),
        events,
        path: step
            .with
            .text("path")
            .and_then(|p| workspace_path(p.value, ""))
            .unwrap_or_default(),
        script_rest: None,
        unsafe_opt_in,
    })
}

/// Spellings, in a script or an output name, of values looked up from the pull request head.
const HEAD_MARKERS: &[&str] = &[
    ".head.",
    "head_sha",
    "head_ref",
    "headsha",
    "headref",
    "head-sha",
    "head-ref",
    "head_repo",
    "headrepo",
    "headrefname",
    "headrefoid",
    "head_branch",
    "head-branch",
];

/// Deepest chain of `needs` outputs and environment variables followed.
const MAX_DEPTH: u8 = 4;

/// Most derived values resolved for one job. Resolution branches (an output may name many
/// others), so a hostile workflow could otherwise make it exponential; real workflows use a
/// handful.
const RESOLUTION_BUDGET: u32 = 2_000;

/// Resolves what an expression or a shell word refers to, in the context of one step.
#[derive(Debug, Clone, Copy)]
struct Resolver<'s, 'a> {
    workflow: &'s Workflow<'a>,
    job: &'s Job<'a>,
    step: &'s Step<'a>,
    depth: u8,
    /// Shared by every resolver of one top-level question.
    budget: &'s Cell<u32>,
}

impl Resolver<'_, '_> {
    /// If `text` (a ref, a command word) names the pull request head, the privileged events
    /// under which it does (empty = any).
    fn pr_head_events(&self, text: &str) -> Option<Vec<&'static str>> {
        let pull_ref = is_pull_ref(&text.to_ascii_lowercase());
        let mut found = Events::default();
        found.add(self.matching_events(text, &|path, expression| {
            contexts::pr_head_events(path, pull_ref)
                .or_else(|| self.derived_events(path, expression))
        }));
        for name in shell_variables(text) {
            let Some(value) = self.env_value(name) else {
                continue;
            };
            if let Some(events) = self.deeper().and_then(|r| r.pr_head_events(value)) {
                found.add(Some(events));
            } else if pull_ref && !expr::find_expressions(value).is_empty() {
                // `pull/$PR/head` with `PR: ${{ … }}`: the number comes from the event.
                found.add(Some(Vec::new()));
            }
        }
        if !found.matched && pull_ref {
            // `refs/pull/${{ steps.pr.outputs.number }}/head` and similar: whatever the
            // number, it names a pull request.
            found.add(Some(Vec::new()));
        }
        found.into_option()
    }

    /// Events of every context reference in `text`'s expressions that `classify` accepts.
    fn matching_events(
        &self,
        text: &str,
        classify: &dyn Fn(&str, &str) -> Option<&'static [&'static str]>,
    ) -> Option<Vec<&'static str>> {
        let mut found = Events::default();
        for expression in expr::find_expressions(text) {
            for reference in expr::context_refs(expression.text) {
                if let Some(events) = classify(&reference.path, expression.text) {
                    found.add(Some(events.to_vec()));
                }
            }
        }
        found.into_option()
    }

    /// Values computed inside the workflow that hold the pull request head: a step output
    /// looked up from the pull request (`steps.pr.outputs.head_sha`, or a step whose script
    /// reads `.head.sha`), a `needs` output that resolves to one or is produced after a fork
    /// checkout, an `env` variable holding one. Any privileged event (empty list).
    fn derived_events(&self, path: &str, expression: &str) -> Option<&'static [&'static str]> {
        const ANY: &[&str] = &[];
        let left = self.budget.get().checked_sub(1)?;
        self.budget.set(left);
        let lower = path.to_ascii_lowercase();
        let mentions_head = |text: &str| {
            HEAD_MARKERS
                .iter()
                .any(|m| text.to_ascii_lowercase().contains(m))
        };
        let mut parts = lower.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("steps"), Some(id), Some("outputs"), name) => {
                if mentions_head(name.unwrap_or("")) || mentions_head(expression) {
                    return Some(ANY);
                }
                let producer = self
                    .job
                    .steps
                    .iter()
                    .find(|s| s.id.is_some_and(|i| i.value.eq_ignore_ascii_case(id)))?;
                let script = producer.run.or_else(|| producer.with.text("script"))?;
                // Judge by the lines that set this output (`name=…`, `setOutput('name', …)`)
                // when there are any: one script often computes the base and the head.
                let name = name.unwrap_or("");
                let setters: Vec<String> = logical_lines(script.value)
                    .into_iter()
                    .filter(|line| {
                        let line = line.to_ascii_lowercase();
                        !name.is_empty()
                            && (line.contains(&format!("{name}="))
                                || line.contains(&format!("'{name}'"))
                                || line.contains(&format!("\"{name}\"")))
                    })
                    .collect();
                let judged = if setters.is_empty() {
                    script.value.to_owned()
                } else {
                    setters.join("\n")
                };
                mentions_head(&judged).then_some(ANY)
            }
            (Some("needs"), Some(job_id), Some("outputs"), Some(name)) => {
                if mentions_head(name) || mentions_head(expression) {
                    return Some(ANY);
                }
                let deeper = self.deeper()?;
                let producer = self
                    .workflow
                    .jobs
                    .iter()
                    .find(|j| j.id.value.eq_ignore_ascii_case(job_id))?;
                let value = producer
                    .node
                    .get("outputs")
                    .and_then(|o| o.as_mapping())?
                    .iter()
                    .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))?
                    .1
                    .as_str()?;
                let step = producer.steps.first()?;
                let inner = Resolver {
                    job: producer,
                    step,
                    ..deeper
                };
                if inner.pr_head_events(value).is_some() {
                    return Some(ANY);
                }
                // An output computed after the producer checked out fork code describes it.
                let first_fork =
                    fork_checkouts_at_depth(self.workflow, producer, deeper.depth, self.budget)
                        .first()
                        .map(|c| c.step.index)?;
                let produced_after = expr::find_expressions(value).iter().any(|e| {
                    expr::context_refs(e.text).iter().any(|r| {
                        let step_id = r
                            .path
                            .strip_prefix("steps.")
                            .and_then(|p| p.split('.').next());
                        step_id.is_some_and(|id| {
                            producer.steps.iter().any(|s| {
                                s.index > first_fork
                                    && s.id.is_some_and(|i| i.value.eq_ignore_ascii_case(id))
                            })
                        })
                    })
                });
                produced_after.then_some(ANY)
            }
            (Some("env"), Some(name), None, None) => {
                let value = self.env_value(name)?;
                self.deeper()?.pr_head_events(value).map(|_| ANY)
            }
            _ => None,
        }
    }

    /// The value of an environment variable as the step sees it. Compared without case:
    /// `env.X` in expressions ignores it, and a shell variable differing only in case from a
    /// declared one is far more likely a reference to it than a separate variable.
    fn env_value(&self, name: &str) -> Option<&str> {
        [self.step.env, self.job.env, self.workflow.env]
            .iter()
            .find_map(|map| {
                map.iter()
                    .find(|(key, _)| key.value.eq_ignore_ascii_case(name))
                    .and_then(|(_, value)| value.as_str())
            })
    }

    fn deeper(&self) -> Option<Self> {
        (self.depth < MAX_DEPTH).then(|| Resolver {
            depth: self.depth + 1,
            ..*self
        })
    }
}

/// Accumulates event lists where an empty list means "any event".
#[derive(Debug, Default)]
struct Events {
    matched: bool,
    any: bool,
    events: Vec<&'static str>,
}

impl Events {
    fn add(&mut self, events: Option<Vec<&'static str>>) {
        if let Some(events) = events {
            self.matched = true;
            self.any |= events.is_empty();
            self.events.extend(events);
        }
    }

    fn into_option(mut self) -> Option<Vec<&'static str>> {
        if self.any {
            self.events.clear();
        }
        self.events.sort_unstable();
        self.events.dedup();
        self.matched.then_some(self.events)
    }
}

/// Script lines with their continuations joined (a trailing `\\`, `|`, `&&` or `(`).
fn logical_lines(script: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        current.push_str(line);
        current.push('\n');
        let end = line.trim_end();
        if !(end.ends_with('\\') || end.ends_with('|') || end.ends_with("&&") || end.ends_with('('))
        {
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// `refs/pull/N/head`, `pull/N/merge`, `+refs/pull/*/head:…`.
fn is_pull_ref(lower: &str) -> bool {
    lower.match_indices("pull/").any(|(at, _)| {
        let rest = &lower[at + 5..];
        rest.contains("/head") || rest.contains("/merge")
    })
}

/// `$NAME` and `${NAME}` in a word (not `${{ … }}` expressions).
fn shell_variables(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut i = 0;
    while let Some(found) = text[i..].find('$') {
        let at = i + found;
        let rest = &text[at + 1..];
        if rest.starts_with("{{") {
            i = at + 1 + rest.find("}}").map_or(rest.len(), |e| e + 2);
            continue;
        }
        let start = at + 1 + usize::from(rest.starts_with('{'));
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(text.len(), |e| start + e);
        if end > start {
            names.push(&text[start..end]);
        }
        i = end.max(at + 1);
    }
    names
}

/// State carried across the `run:` steps of a job: what has been fetched.
#[derive(Debug, Default)]
struct ScriptState {
    /// A pull request head was fetched, so `FETCH_HEAD` names it.
    fetched: bool,
    /// Privileged events under which the fetch named fork code (empty = any).
    fetched_events: Vec<&'static str>,
    /// Local refs the head was fetched into (`pull/1/head:pr-1` → `pr-1`).
    local_refs: Vec<String>,
}

impl ScriptState {
    fn scan<'s, 'a>(
        &mut self,
        step: &'s Step<'a>,
        run: Text<'a>,
        start_dir: Option<String>,
        resolver: &Resolver<'_, '_>,
    ) -> Vec<ForkCheckout<'s, 'a>> {
        let mut found = Vec::new();
        let mut cwd = start_dir;
        for command in shell::commands(run.value) {
            let Some(program) = command.program() else {
                continue;
            };
            if program.text == "cd" {
                cwd = change_directory(cwd.as_deref(), &command);
                continue;
            }
            let checkout = match program.text.as_str() {
                "gh" => self.gh(&command),
                "git" => self.git(&command, resolver),
                _ => None,
            };
            if let Some((events, pathspec)) = checkout {
                let base = cwd.clone().unwrap_or_default();
                let path = match pathspec {
                    Some(pathspec) => workspace_path(&pathspec, &base).unwrap_or(base),
                    None => base,
                };
                found.push(ForkCheckout {
                    step,
                    method: Method::Script,
                    span: run.span_of(command.range.clone()),
                    route: run.route().to_string(),
                    reference: run.value[command.range.clone()].trim().to_owned(),
                    events,
                    path,
                    script_rest: Some(command.range.end),
                    unsafe_opt_in: false,
                });
            }
        }
        found
    }

    /// `gh pr checkout <n>`.
    fn gh(&self, command: &Command<'_>) -> Option<(Vec<&'static str>, Option<String>)> {
        let args = command.args();
        (args.first()?.text == "pr" && args.get(1)?.text == "checkout").then(|| (Vec::new(), None))
    }

    /// `git fetch` remembers; `git checkout|switch|merge|rebase|cherry-pick|reset --hard|pull`
    /// of the head checks out. Returns the events and an optional pathspec.
    fn git(
        &mut self,
        command: &Command<'_>,
        resolver: &Resolver<'_, '_>,
    ) -> Option<(Vec<&'static str>, Option<String>)> {
        let args = command.args();
        let subcommand = args.iter().position(|a| !a.text.starts_with('-'))?;
        let verb = args[subcommand].text.as_str();
        let rest = &args[subcommand + 1..];
        match verb {
            "fetch" => {
                for arg in rest.iter().filter(|a| !a.text.starts_with('-')) {
                    if let Some(events) = resolver.pr_head_events(&arg.text) {
                        self.fetched_events = if self.fetched {
                            merge_events(&self.fetched_events, &events)
                        } else {
                            events
                        };
                        self.fetched = true;
                        if let Some((_, local)) = arg.text.split_once(':') {
                            let local = local.trim_start_matches("refs/heads/");
                            if !local.is_empty() {
                                self.local_refs.push(local.to_owned());
                            }
                        }
                    }
                }
                None
            }
            "pull" => rest
                .iter()
                .filter(|a| !a.text.starts_with('-'))
                .find_map(|arg| resolver.pr_head_events(&arg.text))
                .map(|events| (events, None)),
            "checkout" | "switch" | "merge" | "rebase" | "cherry-pick" | "reset" => {
                if verb == "reset"
                    && !rest
                        .iter()
                        .any(|a| a.text == "--hard" || a.text == "--merge")
                {
                    return None;
                }
                let separator = rest.iter().position(|a| a.text == "--");
                let targets = &rest[..separator.unwrap_or(rest.len())];
                let pathspec = separator
                    .and_then(|s| rest.get(s + 1))
                    .map(|p| p.text.clone());
                targets
                    .iter()
                    .filter(|a| !a.text.starts_with('-'))
                    .find_map(|arg| self.target_events(&arg.text, resolver))
                    .map(|events| (events, pathspec))
            }
            _ => None,
        }
    }

    /// Whether a checkout target names the head, and under which events.
    fn target_events(
        &self,
        target: &str,
        resolver: &Resolver<'_, '_>,
    ) -> Option<Vec<&'static str>> {
        if let Some(events) = resolver.pr_head_events(target) {
            return Some(events);
        }
        let fetched_name = target == "FETCH_HEAD"
            || self.local_refs.iter().any(|local| {
                target == local
                    || target.strip_prefix("origin/") == Some(local)
                    || target.strip_prefix("refs/heads/") == Some(local)
            });
        (self.fetched && fetched_name).then(|| self.fetched_events.clone())
    }
}

/// Union of two event lists where empty means "any".
fn merge_events(a: &[&'static str], b: &[&'static str]) -> Vec<&'static str> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut all = a.to_vec();
    all.extend_from_slice(b);
    all.sort_unstable();
    all.dedup();
    all
}

/// The directory a step starts in, relative to the workspace (`None` = outside it).
pub fn step_directory(workflow: &Workflow<'_>, job: &Job<'_>, step: &Step<'_>) -> Option<String> {
    let configured = step
        .working_directory
        .or(job.working_directory)
        .or(workflow.working_directory);
    match configured {
        Some(dir) => workspace_path(dir.value, ""),
        None => Some(String::new()),
    }
}

/// The directory after a `cd` command.
pub fn change_directory(cwd: Option<&str>, command: &Command<'_>) -> Option<String> {
    let target = command.args().iter().find(|a| !a.text.starts_with('-'));
    match target {
        None => None,
        Some(target) => workspace_path(&target.text, cwd?),
    }
}

/// Resolves a path written in a workflow to a workspace-relative one ("" = the root);
/// `None` for anything outside the workspace or not statically known.
pub fn workspace_path(raw: &str, cwd: &str) -> Option<String> {
    let raw = raw.trim();
    let workspace_prefixes = [
        "${{ github.workspace }}",
        "${{github.workspace}}",
        "${GITHUB_WORKSPACE}",
        "$GITHUB_WORKSPACE",
    ];
    let (base, rest) = match workspace_prefixes.iter().find_map(|p| raw.strip_prefix(p)) {
        Some(rest) => ("", rest.trim_start_matches('/')),
        None if raw.starts_with('/') || raw.starts_with('~') || raw.starts_with('$') => {
            return None;
        }
        None => (cwd, raw),
    };
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in rest.split('/') {
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

/// Whether `dir` is `root` or below it ("" is the whole workspace).
pub fn is_within(dir: &str, root: &str) -> bool {
    root.is_empty() || dir == root || dir.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_refs() {
        assert!(is_pull_ref("refs/pull/${{ github.event.number }}/merge"));
        assert!(is_pull_ref("+refs/pull/*/head:refs/remotes/pr/*"));
        assert!(is_pull_ref("pull/1/head:pr"));
        assert!(!is_pull_ref("refs/heads/main"));
        assert!(!is_pull_ref("pull/requests"));
    }

    /// Resolves `text` in the first step of a job whose steps look up pull request data.
    fn resolve(text: &str) -> Option<Vec<&'static str>> {
        let source = r#"
on: pull_request_target
env:
  PR_SHA: ${{ github.event.pull_request.head.sha }}
jobs:
  lookup:
    runs-on: ubuntu-latest
    outputs:
      sha: ${{ steps.pr.outputs.sha }}
      base: ${{ steps.base.outputs.sha }}
    steps:
      - id: pr
        run: echo "sha=$(gh api repos/o/r/pulls/1 --jq .head.sha)" >> "$GITHUB_OUTPUT"
      - id: base
        run: echo "sha=$(git rev-parse HEAD)" >> "$GITHUB_OUTPUT"
      - id: both
        uses: actions/github-script@v7
        with:
          script: |
            core.setOutput('base', pr.base.sha)
            core.setOutput('head', pr.head.sha)
  use:
    needs: lookup
    runs-on: ubuntu-latest
    steps:
      - run: make
"#;
        let documents = sluice_pack_sdk::yaml::parse(source).expect("test workflow parses");
        let workflow = Workflow::new(&documents[0].root).expect("test workflow is a mapping");
        let job = &workflow.jobs[0];
        let budget = Cell::new(RESOLUTION_BUDGET);
        let resolver = Resolver {
            workflow: &workflow,
            job,
            step: &job.steps[0],
            depth: 0,
            budget: &budget,
        };
        resolver.pr_head_events(text)
    }

    #[test]
    fn head_refs_and_events() {
        let prt = Some(vec!["pull_request_target"]);
        assert_eq!(resolve("${{ github.event.pull_request.head.sha }}"), prt);
        assert_eq!(
            resolve("refs/pull/${{ github.event.pull_request.number }}/merge"),
            prt
        );
        assert_eq!(resolve("refs/pull/${{ github.event.number }}/head"), prt);
        assert_eq!(
            resolve("${{ github.event.pull_request.merge_commit_sha }}"),
            prt
        );
        assert_eq!(
            resolve("refs/pull/${{ github.event.issue.number }}/head"),
            Some(vec!["issue_comment"])
        );
        assert_eq!(resolve("${{ github.event.pull_request.number }}"), None);
        assert_eq!(resolve("${{ github.event.pull_request.base.sha }}"), None);
        assert_eq!(resolve("${{ github.sha }}"), None);
        assert_eq!(resolve("main"), None);
    }

    #[test]
    fn derived_head_values() {
        let any = Some(vec![]);
        assert_eq!(
            resolve("${{ fromJSON(steps.x.outputs.result).head.sha }}"),
            any
        );
        assert_eq!(resolve("${{ steps.other.outputs.head_sha }}"), any);
        // The producing step's script reads `.head.sha`.
        assert_eq!(resolve("${{ steps.pr.outputs.sha }}"), any);
        // `git rev-parse HEAD` of a trusted checkout is not the pull request head.
        assert_eq!(resolve("${{ steps.base.outputs.sha }}"), None);
        assert_eq!(resolve("${{ steps.both.outputs.base }}"), None);
        assert_eq!(resolve("${{ needs.lookup.outputs.sha }}"), any);
        assert_eq!(resolve("${{ needs.lookup.outputs.base }}"), None);
        assert_eq!(resolve("${{ env.PR_SHA }}"), any);
        assert_eq!(resolve("$PR_SHA"), prt_only());
        assert_eq!(
            resolve("refs/pull/${{ steps.pr.outputs.number }}/head"),
            any
        );
    }

    fn prt_only() -> Option<Vec<&'static str>> {
        Some(vec!["pull_request_target"])
    }

    /// (step index, path, reference) of every fork checkout in a one-job workflow's steps.
    fn checkouts(steps: &str) -> Vec<(usize, String, String)> {
        let source =
            format!("on: pull_request_target\njobs:\n  j:\n    runs-on: x\n    steps:\n{steps}");
        let documents = sluice_pack_sdk::yaml::parse(&source).expect("test workflow parses");
        let workflow = Workflow::new(&documents[0].root).expect("test workflow is a mapping");
        fork_checkouts(&workflow, &workflow.jobs[0])
            .iter()
            .map(|c| (c.step.index, c.path.clone(), c.reference.clone()))
            .collect()
    }

    #[test]
    fn action_checkouts() {
        let found = checkouts(
            "      - uses: actions/checkout@v4\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.base.sha }}\n      - uses: Actions/Checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n          path: ./pr/\n      - uses: actions/checkout@v4\n        with:\n          repository: ${{ github.event.pull_request.head.repo.full_name }}\n",
        );
        assert_eq!(
            found,
            [
                (
                    2,
                    "pr".to_owned(),
                    "${{ github.event.pull_request.head.sha }}".to_owned()
                ),
                (
                    3,
                    String::new(),
                    "${{ github.event.pull_request.head.repo.full_name }}".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn script_checkouts() {
        let found = checkouts(
            "      - run: |\n          git fetch origin pull/${{ github.event.number }}/head\n          git diff FETCH_HEAD\n          cd sub\n          git checkout FETCH_HEAD -- docs/\n      - run: gh pr checkout 12\n      - run: git reset --soft ${{ github.event.pull_request.head.sha }}\n      - run: git reset --hard ${{ github.event.pull_request.head.sha }}\n",
        );
        assert_eq!(
            found,
            [
                (
                    0,
                    "sub/docs".to_owned(),
                    "git checkout FETCH_HEAD -- docs/".to_owned()
                ),
                (1, String::new(), "gh pr checkout 12".to_owned()),
                (
                    3,
                    String::new(),
                    "git reset --hard ${{ github.event.pull_request.head.sha }}".to_owned()
                ),
            ]
        );
        // Fetching alone, or checking out something else, is not a checkout of the head.
        assert!(
            checkouts("      - run: git fetch origin pull/1/head:pr && git log pr\n").is_empty()
        );
        assert!(
            checkouts("      - run: git fetch origin main && git checkout FETCH_HEAD\n").is_empty()
        );
    }

    #[test]
    fn variables() {
        assert_eq!(shell_variables("pull/$PR/head:${LOCAL}x"), ["PR", "LOCAL"]);
        assert_eq!(shell_variables("${{ github.sha }}"), Vec::<&str>::new());
    }

    #[test]
    fn paths() {
        assert_eq!(workspace_path("./pr/", "").as_deref(), Some("pr"));
        assert_eq!(
            workspace_path("${{ github.workspace }}/a/b", "x").as_deref(),
            Some("a/b")
        );
        assert_eq!(workspace_path("..", "a/b").as_deref(), Some("a"));
        assert_eq!(workspace_path("..", ""), None);
        assert_eq!(workspace_path("/tmp", ""), None);
        assert_eq!(workspace_path("$RUNNER_TEMP/x", ""), None);
        assert!(is_within("pr/src", "pr"));
        assert!(is_within("anything", ""));
        assert!(!is_within("preview", "pr"));
    }
}
