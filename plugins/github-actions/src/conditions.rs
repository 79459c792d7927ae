//! Reading `if:` conditions for what they let through.
//!
//! Conditions are compared textually after normalisation (no spaces, lower case, one quote
//! style), split at top-level `||` into alternatives: a condition guards something only if
//! every alternative does, because an attacker takes whichever alternative is weakest.

/// A normalised `if:` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The top-level `||` alternatives, normalised.
    pub alternatives: Vec<String>,
}

impl Condition {
    pub fn parse(text: &str) -> Condition {
        let normalised = normalise(text);
        Condition {
            alternatives: split_top_level_or(&normalised),
        }
    }

    /// Which of `events` each alternative can run for, combined: an alternative that compares
    /// `github.event_name == 'x'` only runs for `x`; `github.event_name != 'x'` excludes `x`.
    pub fn reachable_events<'e>(&self, events: &[&'e str]) -> Vec<&'e str> {
        let mut reachable = Vec::new();
        for alternative in &self.alternatives {
            let only = compared_event_names(alternative, "==");
            let excluded = compared_event_names(alternative, "!=");
            for event in events {
                let allowed = (only.is_empty() || only.iter().any(|o| o == event))
                    && !excluded.iter().any(|e| e == event);
                if allowed && !reachable.contains(event) {
                    reachable.push(*event);
                }
            }
        }
        reachable
    }
}

impl Condition {
    /// Event names the condition compares `github.event_name` to with `==`.
    pub fn compared_events(&self) -> Vec<String> {
        self.alternatives
            .iter()
            .flat_map(|alternative| compared_event_names(alternative, "=="))
            .collect()
    }
}

/// Removes `${{ }}`, whitespace and case differences, and uses `'` for every quote (`"` is
/// not valid in expressions, but people write it and GitHub's parser is forgiving about it in
/// the sense that the job then fails; treating both alike costs nothing).
pub fn normalise(text: &str) -> String {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .unwrap_or(trimmed);
    let mut out = String::with_capacity(inner.len());
    let mut in_string = false;
    for c in inner.chars() {
        match c {
            '\'' | '"' => {
                in_string = !in_string;
                out.push('\'');
            }
            c if c.is_whitespace() && !in_string => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    // A `${{ }}` in the middle of a longer condition also expands to its content.
    out.replace("${{", "").replace("}}", "")
}

/// Splits at `||` outside parentheses and strings.
fn split_top_level_or(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_string = false;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_string = !in_string,
            b'(' if !in_string => depth += 1,
            b')' if !in_string => depth -= 1,
            b'|' if !in_string && depth == 0 && bytes.get(i + 1) == Some(&b'|') => {
                parts.push(text[start..i].to_owned());
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(text[start..].to_owned());
    parts
}

/// Event names compared with `op` against `github.event_name` in a normalised alternative.
fn compared_event_names(alternative: &str, op: &str) -> Vec<String> {
    let mut names = Vec::new();
    for forward in [true, false] {
        let needle = if forward {
            format!("github.event_name{op}'")
        } else {
            format!("{op}github.event_name")
        };
        let mut from = 0;
        while let Some(found) = alternative[from..].find(&needle) {
            let at = from + found;
            if forward {
                let rest = &alternative[at + needle.len()..];
                if let Some(end) = rest.find('\'') {
                    names.push(rest[..end].to_owned());
                }
            } else if let Some(literal) = alternative[..at].strip_suffix('\'')
                && let Some(open) = literal.rfind('\'')
            {
                names.push(literal[open + 1..].to_owned());
            }
            from = at + needle.len();
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_splits() {
        let condition = Condition::parse(
            "${{ github.event_name == \"push\" || (contains(github.event.pull_request.labels.*.name, 'Safe To Test') && github.actor == 'x') }}",
        );
        assert_eq!(
            condition.alternatives,
            [
                "github.event_name=='push'",
                "(contains(github.event.pull_request.labels.*.name,'safe to test')&&github.actor=='x')"
            ]
        );
    }

    #[test]
    fn strings_keep_their_spaces_and_operators() {
        let condition = Condition::parse("github.event.comment.body == 'a || b'");
        assert_eq!(
            condition.alternatives,
            ["github.event.comment.body=='a || b'"]
        );
    }

    #[test]
    fn event_scoping() {
        let events = ["pull_request", "pull_request_target"];
        let only_pr = Condition::parse("github.event_name == 'pull_request'");
        assert_eq!(only_pr.reachable_events(&events), ["pull_request"]);
        let not_prt = Condition::parse("github.event_name != 'pull_request_target' && always()");
        assert_eq!(not_prt.reachable_events(&events), ["pull_request"]);
        let reversed = Condition::parse("'pull_request_target' == github.event_name");
        assert_eq!(reversed.reachable_events(&events), ["pull_request_target"]);
        let either = Condition::parse(
            "github.event_name == 'pull_request' || github.event.label.name == 'ok'",
        );
        assert_eq!(either.reachable_events(&events), events);
        let unrelated = Condition::parse("success()");
        assert_eq!(unrelated.reachable_events(&events), events);
    }
}
