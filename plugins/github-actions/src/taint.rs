//! Attacker-controlled `${{ … }}` expressions inside arbitrary text (scripts, `with:` values,
//! output writes), shared by the rules that follow such data past the step that reads it.

use std::ops::Range;

use sluice_pack_sdk::expr::{self, ContextRef};

use crate::contexts::{self, Tier};
use crate::model::{Definition, Workflow};

/// One expression whose text result carries attacker-chosen data.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Byte range of the whole `${{ … }}` in the scanned text.
    pub range: Range<usize>,
    /// The expression's inner text, whitespace-normalised.
    pub expression: String,
    /// The strongest tainted context it reads.
    pub path: String,
    pub tier: Tier,
    /// Some trigger of the workflow (or its caller) fills the context.
    pub reachable: bool,
}

/// Every tainted expression in `text`, in order.
pub fn hits(text: &str, definition: &Definition<'_>) -> Vec<Hit> {
    let workflow = definition.as_workflow();
    expr::find_expressions(text)
        .into_iter()
        .filter_map(|expression| {
            let (path, tier, reachable) = strongest(expression.text, definition, workflow)?;
            Some(Hit {
                range: expression.range.clone(),
                expression: normalise(expression.text),
                path,
                tier,
                reachable,
            })
        })
        .collect()
}

/// Whitespace-collapsed expression text, for messages and fingerprints.
pub fn normalise(expression: &str) -> String {
    expression.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strongest(
    expression: &str,
    definition: &Definition<'_>,
    workflow: Option<&Workflow<'_>>,
) -> Option<(String, Tier, bool)> {
    expr::context_refs(expression)
        .iter()
        .filter(|r| contexts::is_text_position(expression, r))
        .filter(|r| !is_non_text_input(r, workflow))
        .filter_map(|reference| {
            let dumped = contexts::is_dumped(expression, reference);
            let tainted = contexts::tainted(&reference.path, dumped);
            let tier = tainted.iter().map(|t| t.tier).max()?;
            let reachable = tainted
                .iter()
                .any(|t| is_reachable(t.events, definition, workflow));
            Some((reference.path.clone(), tier, reachable))
        })
        .max_by_key(|(_, tier, reachable)| (*tier, *reachable))
}

/// `inputs.x` declared as `boolean`, `number`, `choice` or `environment`: GitHub validates
/// those, so they cannot carry shell code.
pub fn is_non_text_input(reference: &ContextRef, workflow: Option<&Workflow<'_>>) -> bool {
    let path = reference.path.to_ascii_lowercase();
    let name = path
        .strip_prefix("inputs.")
        .or_else(|| path.strip_prefix("github.event.inputs."));
    let (Some(name), Some(workflow)) = (name, workflow) else {
        return false;
    };
    workflow
        .triggers
        .input(name)
        .and_then(|input| input.kind())
        .is_some_and(|kind| matches!(kind.trim(), "boolean" | "number" | "choice" | "environment"))
}

/// Whether some trigger fills a context filled by `events` (empty: always).
pub fn is_reachable(
    events: &[&str],
    definition: &Definition<'_>,
    workflow: Option<&Workflow<'_>>,
) -> bool {
    let Some(workflow) = workflow else {
        return matches!(definition, Definition::Action(_));
    };
    if events.is_empty() || workflow.triggers.events.is_empty() {
        return true;
    }
    workflow
        .triggers
        .names()
        .any(|name| name == "workflow_call" || events.contains(&name))
}
