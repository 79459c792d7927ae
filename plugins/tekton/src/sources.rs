//! Attacker-controlled values of Tekton runs, in one place.
//!
//! Two systems start Tekton runs from outside events and paste event data into them *before*
//! anything runs:
//!
//! - Pipelines-as-Code (PaC) replaces `{{ name }}` placeholders in the `PipelineRun` it reads
//!   from the repository's `.tekton/` directory;
//! - Tekton Triggers copy webhook fields into `TriggerBinding` params (`$(body.…)`,
//!   `$(header.…)`), which a `TriggerTemplate` pastes into its runs as `$(tt.params.x)`.
//!
//! Whatever those values hold ends up in `$(params.x)` and, from there, in scripts.

/// PaC placeholders whose value the author of a pull request or comment chooses.
///
/// - `source_branch`: the head branch of the pull request. On a fork it is named by the fork's
///   owner, and git allows `$(…)`, backquotes, `;` and quotes in branch names.
/// - `trigger_comment`: the full text of the comment (`/test`, `/retest`, `on-comment`) that
///   started the run; anyone who may comment writes it.
///
/// Not listed, because their values cannot carry shell syntax or are set by maintainers:
/// `revision` (a commit SHA), `pull_request_number`, `sender` (a login name: letters, digits,
/// `-`), `repo_owner`/`repo_name`/`repo_url`/`source_url` (repository names allow only
/// letters, digits, `.`, `_`, `-`), `target_branch` (must exist in the target repository, so
/// maintainers named it), `pull_request_labels` (only triagers set labels), `event_type`,
/// `git_auth_secret`, `target_namespace`.
pub const PAC_ATTACKER_PLACEHOLDERS: &[&str] = &["source_branch", "trigger_comment"];

/// Prefixes of PaC placeholders that read raw event data.
///
/// - `body.`: the webhook payload as sent by the forge — pull request title and body, branch
///   names, commit messages, comment text: all written by the pull request's author;
/// - `files.`: paths of the files the pull request changes (`{{ files.all }}`), named by its
///   author.
pub const PAC_ATTACKER_PREFIXES: &[&str] = &["body.", "files."];

/// The webhook's HTTP headers (`{{ headers['X-…'] }}`). Whoever sends an `incoming` webhook
/// chooses them; on forge events the forge sets them (`X-GitHub-Event: pull_request`), so
/// they are attacker text only in runs started by incoming webhooks.
pub const PAC_HEADERS: &str = "headers";

/// Whether a PaC placeholder expression reads the webhook's headers.
pub fn is_header_placeholder(expression: &str) -> bool {
    let expression = expression.trim();
    expression.starts_with(PAC_HEADERS)
        || expression
            .strip_prefix("cel:")
            .is_some_and(|cel| cel.contains(PAC_HEADERS))
}

/// Tekton Triggers interpolations (in `TriggerBinding` values) that read raw event data:
/// `$(body.…)` is the webhook payload and `$(header.…)` its headers, as for PaC.
pub const TRIGGER_ATTACKER_PREFIXES: &[&str] = &["body.", "header."];

/// Event fields that hold numbers, hashes, ids, dates or booleans even inside an attacker's
/// payload: the forge sets them and they cannot carry shell syntax.
const SAFE_FIELD_SUFFIXES: &[&str] = &[
    "number",
    "id",
    "node_id",
    "sha",
    "before",
    "after",
    "created_at",
    "updated_at",
    "merged_at",
    "closed_at",
    "private",
    "fork",
    "draft",
    "merged",
    "size",
    "commits",
    "additions",
    "deletions",
    "changed_files",
];

/// Whether a PaC placeholder expression (the text between `{{` and `}}`, trimmed) reads
/// attacker-controlled text. `cel:` expressions count when they mention such a source.
pub fn is_attacker_placeholder(expression: &str) -> bool {
    let expression = expression.trim();
    if let Some(cel) = expression.strip_prefix("cel:") {
        return cel_mentions_attacker_source(cel);
    }
    PAC_ATTACKER_PLACEHOLDERS.contains(&expression)
        || PAC_ATTACKER_PREFIXES
            .iter()
            .any(|prefix| expression.starts_with(prefix) && !is_safe_field(expression))
}

/// Whether a `TriggerBinding` value such as `$(body.pull_request.title)` is event text. Takes
/// the text inside `$(…)`.
pub fn is_attacker_trigger_field(expression: &str) -> bool {
    let expression = expression.trim();
    TRIGGER_ATTACKER_PREFIXES
        .iter()
        .any(|prefix| expression.starts_with(prefix) && !is_safe_field(expression))
}

fn is_safe_field(path: &str) -> bool {
    let last = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .trim_end_matches([']', '\'', '"'])
        .trim_start_matches(['\'', '"']);
    SAFE_FIELD_SUFFIXES.contains(&last)
}

fn cel_mentions_attacker_source(cel: &str) -> bool {
    let identifiers = cel.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
    identifiers.into_iter().any(|word| {
        let word = word.strip_prefix("pac.").unwrap_or(word);
        PAC_ATTACKER_PLACEHOLDERS.contains(&word)
            || PAC_ATTACKER_PREFIXES
                .iter()
                .any(|p| word.starts_with(p.trim_end_matches('.')) && !is_safe_field(word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pac_placeholders() {
        assert!(is_attacker_placeholder("body.pull_request.title"));
        assert!(is_attacker_placeholder(" source_branch "));
        assert!(!is_attacker_placeholder("headers['X-Custom']"));
        assert!(is_header_placeholder("headers['X-Custom']"));
        assert!(is_attacker_placeholder("files.all"));
        assert!(is_attacker_placeholder(
            "cel: body.pull_request.body.split('x')[0]"
        ));
        assert!(!is_attacker_placeholder("body.pull_request.number"));
        assert!(!is_attacker_placeholder("body.pull_request.head.sha"));
        assert!(!is_attacker_placeholder("revision"));
        assert!(!is_attacker_placeholder("target_branch"));
        assert!(!is_attacker_placeholder(
            "cel: pac.target_branch.replace('a', 'b')"
        ));
        assert!(!is_attacker_placeholder(".Values.image"));
    }

    #[test]
    fn trigger_fields() {
        assert!(is_attacker_trigger_field("body.head_commit.message"));
        assert!(is_attacker_trigger_field("header.X-Forwarded-For"));
        assert!(!is_attacker_trigger_field("body.head_commit.id"));
        assert!(!is_attacker_trigger_field("body.repository.fork"));
    }
}
