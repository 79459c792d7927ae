//! Who can start a run: Pipelines-as-Code annotations and Tekton Triggers.

use sluice_pack_sdk::Span;

use crate::model::Resource;
use crate::repository::Listener;

/// PaC annotation prefix.
pub const PAC: &str = "pipelinesascode.tekton.dev/";

/// What starts a run, from most to least exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    /// PaC `on-event: [pull_request]` or a CEL expression matching `pull_request`: anyone who
    /// opens a pull request (from a fork: after `/ok-to-test` by a collaborator under PaC's
    /// default policy).
    PullRequest,
    /// PaC `on-comment`: whoever may comment.
    Comment,
    /// A `TriggerTemplate` run: created from a webhook through an `EventListener`.
    Webhook,
    /// PaC `on-event: [incoming]`: whoever holds the incoming webhook's secret.
    Incoming,
    /// PaC, but the events cannot be told from the annotations (a CEL expression we cannot
    /// read).
    UnknownPac,
    /// PaC `push` (or tag) only: whoever can push to the repository.
    Push,
    /// No trigger in sight: created by hand, by another controller, or reused by a run the
    /// scan does not contain.
    None,
}

/// The trigger of a run and where it is declared.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub trigger: Trigger,
    /// Whether PaC substitutes `{{ … }}` placeholders in the run.
    pub pac: bool,
    /// "Pipelines-as-Code `on-event: [pull_request]`", for messages.
    pub origin: String,
    /// Where the trigger is declared.
    pub at: Option<(String, Span)>,
    /// For Triggers: an `EventListener` of the scan accepts pull request or comment events.
    pub confirmed: bool,
}

impl Exposure {
    pub fn none() -> Exposure {
        Exposure {
            trigger: Trigger::None,
            pac: false,
            origin: String::new(),
            at: None,
            confirmed: false,
        }
    }

    /// Triggered by people outside the project's maintainers.
    pub fn is_external(&self) -> bool {
        matches!(
            self.trigger,
            Trigger::PullRequest | Trigger::Comment | Trigger::Webhook | Trigger::Incoming
        )
    }

    /// A run created by an `EventListener` from `TriggerTemplate` `template`. The scan's
    /// listeners for the template narrow it: when every one of them accepts only events
    /// outsiders cannot send (`eventTypes: [push]`), the run is not externally triggered.
    pub fn webhook(path: &str, template: &Resource<'_>, listeners: &[Listener<'_>]) -> Exposure {
        let mut exposure = Exposure {
            trigger: Trigger::Webhook,
            pac: false,
            origin: format!("Tekton Triggers ({})", template.label()),
            at: Some((path.to_owned(), template.node.span)),
            confirmed: false,
        };
        if listeners.is_empty() {
            return exposure;
        }
        let outsider = |event: &&str| {
            let event = event.to_ascii_lowercase();
            ["pull", "merge", "comment", "note", "issue", "review"]
                .iter()
                .any(|word| event.contains(word))
        };
        if listeners
            .iter()
            .all(|l| l.events.as_ref().is_some_and(|e| !e.iter().any(outsider)))
        {
            exposure.trigger = Trigger::Push;
            exposure.origin = format!(
                "Tekton Triggers ({}; its EventListener accepts only {})",
                template.label(),
                listeners
                    .iter()
                    .flat_map(|l| l.events.iter().flatten())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        } else {
            exposure.confirmed = listeners
                .iter()
                .any(|l| l.events.as_ref().is_some_and(|e| e.iter().any(outsider)));
            if exposure.confirmed {
                exposure.origin = format!(
                    "Tekton Triggers ({}, EventListener `{}` accepts outsiders' events)",
                    template.label(),
                    listeners[0].name
                );
            }
        }
        exposure
    }

    /// The PaC trigger of a run, from its annotations.
    pub fn of_run(path: &str, run: &Resource<'_>) -> Exposure {
        let mut best = Exposure::none();
        for (key, value) in run.annotations() {
            let Some(name) = key.as_str().and_then(|k| k.strip_prefix(PAC)) else {
                continue;
            };
            if !name.starts_with("on-") {
                continue;
            }
            best.pac = true;
            let text = value.as_str().unwrap_or_default();
            let trigger = match name {
                "on-event" => events_trigger(text),
                "on-comment" => Trigger::Comment,
                "on-cel-expression" => cel_trigger(text),
                // on-target-branch, on-path-change, on-label… narrow an event, they add none.
                _ => continue,
            };
            if trigger < best.trigger {
                best.trigger = trigger;
                best.origin = format!("Pipelines-as-Code `{name}: {}`", one_line(text));
                best.at = Some((path.to_owned(), value.span));
            }
        }
        if best.pac && best.trigger == Trigger::None {
            // PaC annotations without an event: PaC does not start the run by itself.
            best.origin = "Pipelines-as-Code".to_owned();
        }
        best
    }
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(80).collect::<String>())
    } else {
        line
    }
}

/// `[pull_request, push]`, `pull_request`, `"[incoming]"`.
fn events_trigger(text: &str) -> Trigger {
    let events: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|e| !e.is_empty())
        .collect();
    let mut best = Trigger::None;
    for event in events {
        let trigger = match event {
            "pull_request" | "pull-request" | "merge_request" | "pull_request_target" => {
                Trigger::PullRequest
            }
            "incoming" => Trigger::Incoming,
            "push" | "tag" => Trigger::Push,
            _ => Trigger::UnknownPac,
        };
        best = best.min(trigger);
    }
    best
}

/// A CEL filter: `event == "pull_request" && target_branch == "main"`.
fn cel_trigger(text: &str) -> Trigger {
    if text.contains("pull_request") || text.contains("pull-request") {
        Trigger::PullRequest
    } else if text.contains("incoming") {
        Trigger::Incoming
    } else if text.contains("\"push\"") || text.contains("'push'") {
        Trigger::Push
    } else {
        Trigger::UnknownPac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events() {
        assert_eq!(events_trigger("[pull_request, push]"), Trigger::PullRequest);
        assert_eq!(events_trigger("push"), Trigger::Push);
        assert_eq!(events_trigger("[incoming]"), Trigger::Incoming);
        assert_eq!(
            cel_trigger("event == \"pull_request\" && target_branch == \"main\""),
            Trigger::PullRequest
        );
        assert_eq!(cel_trigger("event == \"push\""), Trigger::Push);
        assert_eq!(cel_trigger("true"), Trigger::UnknownPac);
    }
}
