//! Safeguards that stop an outsider from reaching a dangerous job.
//!
//! Each recognised safeguard becomes a [`Safeguard`]: a stable kind (reported as the finding's
//! mitigation kind), the [`Effect`] a rule weighs, and a description of exactly what was
//! found. Rules decide how much each effect lowers severity; this module only recognises.

use crate::conditions::Condition;
use crate::model::{Job, Step, Workflow, scalars};

/// What a safeguard does, for the rules that weigh it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Only runs for pull requests from the same repository.
    ForkGuard,
    /// Only runs for a bot actor; spoofable by a later push (TOCTOU), so never a full guard.
    BotActor,
    /// Only runs for named people.
    HumanActor,
    /// Needs a maintainer to apply a label.
    LabelGate,
    /// Runs in a deployment environment, which may require approval.
    Environment,
    /// A step before the checkout verifies the actor's repository permission.
    MaintainerCheck,
    /// A job this one needs verifies collaborator permission.
    PermissionGateJob,
    /// Only runs for members, owners or collaborators.
    AuthorAssociation,
    /// Fork code sits in a subdirectory; what runs comes from a trusted checkout.
    TrustedRefIsolation,
    /// Fork code sits in a subdirectory nothing runs from.
    PathIsolation,
    /// The token has no permissions and no secret is in reach.
    NoToken,
    /// The token is read-only and no secret is in reach.
    ReadOnlyToken,
}

/// One recognised safeguard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Safeguard {
    /// Reported mitigation kind, e.g. `fork-guard` or `needs-gate`.
    pub kind: &'static str,
    pub effect: Effect,
    pub description: String,
}

impl Safeguard {
    pub fn new(kind: &'static str, effect: Effect, description: impl Into<String>) -> Safeguard {
        Safeguard {
            kind,
            effect,
            description: description.into(),
        }
    }
}

/// Fields naming the head repository of a pull request or workflow run.
const HEAD_REPOSITORY_NAMES: &[&str] = &[
    "github.event.pull_request.head.repo.full_name",
    "github.event.workflow_run.head_repository.full_name",
];
const HEAD_REPOSITORY_FORK_FLAGS: &[&str] = &[
    "github.event.pull_request.head.repo.fork",
    "github.event.workflow_run.head_repository.fork",
];
const ACTOR_FIELDS: &[&str] = &[
    "github.actor",
    "github.triggering_actor",
    "github.event.sender.login",
    "github.event.pull_request.user.login",
    "github.event.comment.user.login",
    "github.event.issue.user.login",
];
const TRUSTED_ASSOCIATIONS: &[&str] = &["'owner'", "'member'", "'collaborator'"];

/// Safeguards expressed by one `if:` condition.
///
/// An attacker takes the weakest `||` alternative, so the condition is only as strong as that
/// alternative: its safeguards are returned, and nothing when some alternative has none.
/// `where_` says where the condition is, for descriptions (`job if:`, `step if:`).
pub fn condition_safeguards(condition: &str, where_: &str) -> Vec<Safeguard> {
    let parsed = Condition::parse(condition);
    parsed
        .alternatives
        .iter()
        .map(|alternative| alternative_safeguards(alternative, where_, condition))
        .min_by_key(|safeguards| {
            safeguards
                .iter()
                .map(|s| strength(s.effect))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or_default()
}

/// How much a gate in a condition keeps outsiders out, for picking the weakest alternative.
fn strength(effect: Effect) -> u8 {
    match effect {
        Effect::ForkGuard => 3,
        Effect::AuthorAssociation => 2,
        _ => 1,
    }
}

fn alternative_safeguards(alternative: &str, where_: &str, original: &str) -> Vec<Safeguard> {
    let shown = shorten(original.trim());
    let mut found = Vec::new();
    if has_fork_guard(alternative) {
        found.push(Safeguard::new(
            "fork-guard",
            Effect::ForkGuard,
            format!("{where_} only runs for pull requests from this repository (`{shown}`)"),
        ));
    }
    if has_label_gate(alternative) {
        found.push(Safeguard::new(
            "label-gate",
            Effect::LabelGate,
            format!("{where_} requires a maintainer-applied label (`{shown}`)"),
        ));
    }
    if has_actor_guard(alternative) {
        if alternative.contains("[bot]") {
            found.push(Safeguard::new(
                "actor-guard",
                Effect::BotActor,
                format!(
                    "{where_} restricts the actor to a bot (`{shown}`); a later push to the pull request still runs as that bot"
                ),
            ));
        } else {
            found.push(Safeguard::new(
                "actor-guard",
                Effect::HumanActor,
                format!("{where_} restricts the actor (`{shown}`)"),
            ));
        }
    }
    if has_author_association_guard(alternative) {
        found.push(Safeguard::new(
            "author-association",
            Effect::AuthorAssociation,
            format!("{where_} requires a trusted author association (`{shown}`)"),
        ));
    }
    found
}

fn has_fork_guard(alternative: &str) -> bool {
    let same_repository = HEAD_REPOSITORY_NAMES.iter().any(|field| {
        alternative.contains(&format!("{field}==github.repository"))
            || alternative.contains(&format!("github.repository=={field}"))
            || alternative.contains(&format!("{field}=='"))
    });
    let not_fork = HEAD_REPOSITORY_FORK_FLAGS.iter().any(|field| {
        alternative.contains(&format!("{field}==false"))
            || alternative.contains(&format!("{field}!=true"))
            || alternative.contains(&format!("!{field}"))
    });
    let same_owner = alternative
        .contains("github.event.pull_request.head.repo.owner.login==github.repository_owner");
    // A workflow run started by anything but a pull request ran trusted code.
    let not_from_pr = alternative.contains("github.event.workflow_run.event!='pull_request'")
        || alternative.contains("github.event.workflow_run.event=='push'");
    same_repository || not_fork || same_owner || not_from_pr
}

fn has_label_gate(alternative: &str) -> bool {
    alternative.contains("github.event.label.name==")
        || alternative.contains("==github.event.label.name")
        || alternative.contains("github.event.action=='labeled'")
        || alternative.contains("contains(github.event.pull_request.labels.*.name,")
}

fn has_actor_guard(alternative: &str) -> bool {
    ACTOR_FIELDS.iter().any(|field| {
        alternative.contains(&format!("{field}=='"))
            || alternative.contains(&format!("'=={field}"))
            || (alternative.contains("contains(") && alternative.contains(&format!(",{field})")))
    })
}

fn has_author_association_guard(alternative: &str) -> bool {
    if !alternative.contains("author_association") {
        return false;
    }
    let equals_trusted = TRUSTED_ASSOCIATIONS.iter().any(|association| {
        alternative.contains(&format!("author_association=={association}"))
            || alternative.contains(&format!("{association}==github.event."))
    });
    let contains_trusted = alternative.contains("contains(")
        && alternative.contains("author_association)")
        && TRUSTED_ASSOCIATIONS.iter().any(|a| alternative.contains(a));
    let excludes_outsiders = ["'none'", "'first_timer'", "'first_time_contributor'"]
        .iter()
        .any(|a| alternative.contains(&format!("author_association!={a}")));
    equals_trusted || contains_trusted || excludes_outsiders
}

/// Only `labeled` activity of `pull_request_target` starts the workflow.
pub fn label_trigger(workflow: &Workflow<'_>) -> Option<Safeguard> {
    let trigger = workflow.triggers.get("pull_request_target")?;
    let types = trigger.activity_types()?;
    (!types.is_empty() && types.iter().all(|t| t.value == "labeled")).then(|| {
        Safeguard::new(
            "label-gate",
            Effect::LabelGate,
            "`pull_request_target` only runs on `labeled` events (a maintainer action)",
        )
    })
}

/// The job runs in a named deployment environment.
pub fn environment(job: &Job<'_>) -> Option<Safeguard> {
    let environment = job.environment.filter(|e| e.is_named())?;
    let name = environment.name.map_or("", |n| n.value);
    Some(Safeguard::new(
        "environment",
        Effect::Environment,
        format!(
            "job `{}` runs in environment `{name}`, which may require approval",
            job.id.value
        ),
    ))
}

/// Actions that fail unless the actor has write (or admin) permission.
const PERMISSION_CHECK_ACTIONS: &[&str] = &[
    "actions-cool/check-user-permission",
    "prince-chrismc/check-actor-permissions-action",
    "lannonbr/repo-permission-check-action",
    "themoddinginquisition/actions-team-membership",
    "sushichop/action-repository-permission",
    "skjnldsv/check-actor-permission",
];

/// API calls that look up the actor's repository permission.
const PERMISSION_LOOKUPS: &[&str] = &[
    "getcollaboratorpermissionlevel",
    "repos.getcollaboratorpermission",
    "checkcollaborator",
    "/collaborators/",
    "permission.permission",
];

/// Ways a script stops the job.
const FAILURES: &[&str] = &["exit 1", "setfailed", "throw ", "process.exit(1)"];

/// Things a script inspects when deciding whether the actor may proceed.
const ACTOR_FACTS: &[&str] = &[
    "author_association",
    "user.login",
    "github.actor",
    "pr_author",
    "sender.login",
    "/members/",
    "/orgs/",
    "teams/",
    "allowed_users",
];

/// Whether a step verifies who the actor is (and stops the job for outsiders): a known
/// permission-check action, a permission API lookup, or a script that fails after looking
/// at the actor, their association or their membership.
pub fn checks_actor(step: &Step<'_>) -> bool {
    if PERMISSION_CHECK_ACTIONS.iter().any(|a| step.uses_action(a)) {
        return true;
    }
    let is_script = step.run.is_some() || step.uses_action("actions/github-script");
    let script = step
        .run
        .or_else(|| step.with.text("script"))
        .filter(|_| is_script)
        .map(|t| t.value.to_ascii_lowercase());
    let Some(script) = script else {
        return false;
    };
    PERMISSION_LOOKUPS.iter().any(|m| script.contains(m))
        || (FAILURES.iter().any(|f| script.contains(f))
            && ACTOR_FACTS.iter().any(|f| script.contains(f)))
}

/// Safeguards found on the jobs this job `needs:`: a job whose dependency was skipped or
/// failed is skipped too, unless its own `if:` overrides that with a status function.
pub fn needs_gates(workflow: &Workflow<'_>, job: &Job<'_>) -> Vec<Safeguard> {
    let mut found = Vec::new();
    let overrides_status = job.condition.is_some_and(|c| {
        let c = c.value.to_ascii_lowercase();
        ["always()", "failure()", "cancelled()"]
            .iter()
            .any(|f| c.contains(f))
    });
    if overrides_status {
        return found;
    }
    for dependency in job.needs.iter().filter_map(|id| workflow.job(id.value)) {
        let id = dependency.id.value;
        if let Some(environment) = dependency.environment.filter(|e| e.is_named()) {
            let name = environment.name.map_or("", |n| n.value);
            found.push(Safeguard::new(
                "needs-gate",
                Effect::Environment,
                format!("depends on job `{id}`, which runs in environment `{name}`"),
            ));
        }
        if let Some(condition) = &dependency.condition {
            for safeguard in condition_safeguards(condition.value, &format!("needed job `{id}`")) {
                found.push(Safeguard::new(
                    "needs-gate",
                    safeguard.effect,
                    safeguard.description,
                ));
            }
        }
        if dependency.steps.iter().any(checks_actor) {
            found.push(Safeguard::new(
                "needs-gate",
                Effect::PermissionGateJob,
                format!("depends on job `{id}`, which verifies the actor's repository permission"),
            ));
        }
    }
    found
}

/// Token-based safeguards: the job's token cannot write and no secret is in reach.
pub fn token(workflow: &Workflow<'_>, job: &Job<'_>) -> Option<Safeguard> {
    let permissions = workflow.effective_permissions(job)?;
    if references_secrets(workflow, job) {
        return None;
    }
    if permissions.is_empty() {
        Some(Safeguard::new(
            "no-token",
            Effect::NoToken,
            format!(
                "job `{}` has an empty `permissions:` block and references no secrets",
                job.id.value
            ),
        ))
    } else if permissions.is_read_only() {
        Some(Safeguard::new(
            "read-only-token",
            Effect::ReadOnlyToken,
            format!(
                "job `{}` has a read-only token and references no secrets",
                job.id.value
            ),
        ))
    } else {
        None
    }
}

/// Whether any secret other than the job's own token is referenced by the job or the
/// workflow's `env:` (code running early in a job can read what later steps receive).
pub fn references_secrets(workflow: &Workflow<'_>, job: &Job<'_>) -> bool {
    let mut nodes = scalars(job.node);
    if let Some(env) = workflow.env.node {
        nodes.extend(scalars(env));
    }
    nodes
        .iter()
        .filter_map(|node| node.as_str())
        .any(mentions_secret)
}

fn mentions_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("${{") {
        return false;
    }
    lower.match_indices("secrets").any(|(at, _)| {
        let rest = &lower[at + "secrets".len()..];
        let before_ok = at == 0
            || !lower[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let named = rest
            .strip_prefix('.')
            .map(|name| !name.starts_with("github_token"))
            .unwrap_or(false);
        // `secrets[...]`, `toJSON(secrets)` reach every secret.
        let whole = rest.starts_with('[') || rest.starts_with(')');
        before_ok && (named || whole)
    })
}

/// Shortens a condition for descriptions.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 100;
    let single_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if single_line.chars().count() <= LIMIT {
        single_line
    } else {
        let cut: String = single_line.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}

/// How many levels the strongest gate on who can start a job lowers a finding: two for an
/// `author_association` check, a needed job that checks permissions, or a label gate together
/// with an environment; one for a label gate, an environment, a maintainer check before the
/// code runs or a named-person actor guard. Only the strongest counts, so adding a gate never
/// raises a finding. Fork guards, bot actors and tokens are handled by the callers.
pub fn access_gate_steps(safeguards: &[Safeguard]) -> u8 {
    let has = |effect: Effect| safeguards.iter().any(|s| s.effect == effect);
    [
        (has(Effect::LabelGate) && has(Effect::Environment), 2),
        (has(Effect::AuthorAssociation), 2),
        (has(Effect::PermissionGateJob), 2),
        (has(Effect::LabelGate), 1),
        (has(Effect::Environment), 1),
        (has(Effect::MaintainerCheck), 1),
        (has(Effect::HumanActor), 1),
    ]
    .iter()
    .filter(|(applies, _)| *applies)
    .map(|(_, steps)| *steps)
    .max()
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(condition: &str) -> Vec<Effect> {
        condition_safeguards(condition, "job if:")
            .into_iter()
            .map(|s| s.effect)
            .collect()
    }

    #[test]
    fn fork_guards() {
        for condition in [
            "github.event.pull_request.head.repo.full_name == github.repository",
            "${{ github.repository == github.event.pull_request.head.repo.full_name }}",
            "github.event.pull_request.head.repo.fork == false",
            "!github.event.pull_request.head.repo.fork && success()",
            "github.event.workflow_run.head_repository.full_name == github.repository",
            "github.event.workflow_run.event != 'pull_request'",
        ] {
            assert_eq!(kinds(condition), [Effect::ForkGuard], "{condition}");
        }
        for condition in [
            "github.event.pull_request.head.repo.full_name != github.repository",
            "github.event.pull_request.head.repo.fork",
            "github.event.workflow_run.event == 'pull_request'",
        ] {
            assert_eq!(kinds(condition), [], "{condition}");
        }
    }

    #[test]
    fn every_alternative_must_be_guarded() {
        assert_eq!(
            kinds(
                "github.event.pull_request.head.repo.fork == false || github.event.action == 'opened'"
            ),
            []
        );
        // Forks get in through the label alternative: only the label gate protects.
        assert_eq!(
            kinds(
                "github.event.pull_request.head.repo.fork == false || github.event.label.name == 'safe'"
            ),
            [Effect::LabelGate]
        );
        assert_eq!(
            kinds(
                "github.event.pull_request.head.repo.fork == false || github.event.pull_request.head.repo.full_name == github.repository"
            ),
            [Effect::ForkGuard]
        );
    }

    #[test]
    fn actors_labels_and_associations() {
        assert_eq!(
            kinds("github.actor == 'dependabot[bot]'"),
            [Effect::BotActor]
        );
        assert_eq!(kinds("github.actor == 'octocat'"), [Effect::HumanActor]);
        assert_eq!(
            kinds("contains(fromJSON('[\"alice\",\"bob\"]'), github.actor)"),
            [Effect::HumanActor]
        );
        assert_eq!(kinds("github.actor != 'dependabot[bot]'"), []);
        assert_eq!(
            kinds("contains(github.event.pull_request.labels.*.name, 'safe to test')"),
            [Effect::LabelGate]
        );
        assert_eq!(
            kinds("github.event.comment.author_association == 'MEMBER'"),
            [Effect::AuthorAssociation]
        );
        assert_eq!(
            kinds(
                "contains(fromJSON('[\"OWNER\", \"MEMBER\"]'), github.event.comment.author_association)"
            ),
            [Effect::AuthorAssociation]
        );
        assert_eq!(
            kinds("github.event.comment.author_association != 'OWNER'"),
            []
        );
    }

    fn step(yaml: &str) -> bool {
        let documents = sluice_pack_sdk::yaml::parse(yaml).expect("test YAML parses");
        checks_actor(&Step::new(0, &documents[0].root))
    }

    #[test]
    fn actor_checks_in_steps() {
        assert!(step("uses: actions-cool/check-user-permission@v2\n"));
        assert!(step(
            "uses: actions/github-script@v7\nwith:\n  script: |\n    const r = await github.rest.repos.getCollaboratorPermissionLevel({})\n"
        ));
        assert!(step(
            "run: |\n  if [ \"$PR_AUTHOR\" != octocat ]; then exit 1; fi\n"
        ));
        assert!(step(
            "uses: actions/github-script@v7\nwith:\n  script: |\n    if (!ok.includes('${{ github.event.comment.author_association }}')) core.setFailed('no')\n"
        ));
        // Looking at the actor without failing, or failing for other reasons, is no gate.
        assert!(!step("run: echo \"${{ github.actor }}\"\n"));
        assert!(!step("run: make || exit 1\n"));
        // A script input of some other action is not a script.
        assert!(!step(
            "uses: other/action@v1\nwith:\n  script: getCollaboratorPermissionLevel\n"
        ));
    }

    #[test]
    fn secret_references() {
        assert!(mentions_secret("${{ secrets.NPM_TOKEN }}"));
        assert!(mentions_secret("${{ toJSON(secrets) }}"));
        assert!(!mentions_secret("${{ secrets.GITHUB_TOKEN }}"));
        assert!(!mentions_secret("${{ github.token }}"));
        assert!(!mentions_secret("echo secrets.txt"));
    }
}
