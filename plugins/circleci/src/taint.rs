//! Where the text of a `<< … >>` substitution comes from.

use std::collections::HashMap;

use sluice_pack_sdk::yaml::Node;
use sluice_pack_sdk::{Confidence, Severity, Span};

use crate::expressions::{self, Expression};
use crate::model::{Config, ParamDecl};
use crate::sources;

/// One way attacker-controlled text reaches a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub severity: Severity,
    pub confidence: Confidence,
    /// What it is and who controls it, for messages.
    pub what: String,
    /// Controlled by the author of a fork pull request (a branch name, a commit message):
    /// gates that keep fork pull requests out of the job lower it.
    pub from_forks: bool,
    /// Where the value was passed on, outermost first: the argument of each invocation (or
    /// the default) that bound a parameter to it.
    pub bindings: Vec<(Span, String)>,
}

/// The text parameters in scope and where their values come from (an empty list: only
/// literals the configuration shows).
#[derive(Debug, Clone, Default)]
pub struct Env {
    params: HashMap<String, Vec<Origin>>,
}

impl Env {
    /// Binds `decls` for one invocation: `arg(name)` is the argument the caller passes (or
    /// matrix values), evaluated in the caller's `caller` environment; a missing argument
    /// takes the declared default.
    pub fn bind<'a>(
        config: &Config<'_>,
        decls: &[ParamDecl<'a>],
        caller: &Env,
        arg: impl Fn(&str) -> Vec<&'a Node>,
    ) -> Env {
        let mut params = HashMap::new();
        for decl in decls.iter().filter(|d| d.holds_text()) {
            let values = arg(decl.name.value);
            let bound = |node: &Node, env: &Env, how: &str| -> Vec<Origin> {
                let mut origins = node_origins(config, node, env);
                for origin in &mut origins {
                    origin.bindings.push((
                        node.span,
                        format!("parameter `{}` {how} here", decl.name.value),
                    ));
                }
                origins
            };
            let origins = if values.is_empty() {
                // Defaults may only use pipeline values.
                decl.default
                    .map(|d| bound(d, &Env::default(), "defaults to it"))
                    .unwrap_or_default()
            } else {
                values
                    .into_iter()
                    .flat_map(|v| bound(v, caller, "is bound to it"))
                    .collect()
            };
            params.insert(decl.name.value.to_owned(), origins);
        }
        Env { params }
    }

    /// For a job or command the configuration never invokes: each text parameter holds
    /// whatever an unseen caller passes.
    pub fn unknown_callers(decls: &[ParamDecl<'_>], owner: &str) -> Env {
        let params = decls
            .iter()
            .filter(|d| d.holds_text())
            .map(|d| {
                (
                    d.name.value.to_owned(),
                    vec![Origin {
                        severity: Severity::Medium,
                        confidence: Confidence::Low,
                        what: format!(
                            "string parameter `{}` of {owner}, whose callers are not in this \
                             file",
                            d.name.value
                        ),
                        from_forks: false,
                        bindings: Vec::new(),
                    }],
                )
            })
            .collect();
        Env { params }
    }
}

/// Origins of every substitution in a scalar node's text.
pub fn node_origins(config: &Config<'_>, node: &Node, env: &Env) -> Vec<Origin> {
    node.as_str()
        .map(|text| {
            expressions::find(text)
                .iter()
                .flat_map(|e| origins(config, e, env))
                .collect()
        })
        .unwrap_or_default()
}

/// Where the value of one substitution comes from (empty: nothing attacker-controlled).
pub fn origins(config: &Config<'_>, expression: &Expression<'_>, env: &Env) -> Vec<Origin> {
    if let Some(source) = sources::pipeline_value(expression.content) {
        return vec![Origin {
            severity: source.severity,
            confidence: Confidence::High,
            what: format!("`{}`, {}", source.name, source.why),
            from_forks: source.severity == Severity::High,
            bindings: Vec::new(),
        }];
    }
    if let Some(name) = expression.pipeline_parameter() {
        let decl = config.parameters.iter().find(|d| d.name.value == name);
        if decl.is_some_and(|d| !d.holds_text()) {
            return Vec::new();
        }
        return vec![Origin {
            severity: Severity::Medium,
            confidence: if decl.is_some() {
                Confidence::High
            } else {
                Confidence::Low
            },
            what: format!(
                "pipeline parameter `{name}`, set by whoever triggers the pipeline (API, UI, \
                 trigger or setup workflow)"
            ),
            from_forks: false,
            bindings: Vec::new(),
        }];
    }
    if let Some(name) = expression.parameter() {
        return env.params.get(name).cloned().unwrap_or_default();
    }
    Vec::new()
}

/// The worst of several origins (highest severity, then confidence).
pub fn worst(origins: &[Origin]) -> Option<&Origin> {
    origins
        .iter()
        .max_by_key(|o| (o.severity, o.confidence, o.from_forks))
}
