//! Where a pipeline's steps run: declarative `agent` sections and scripted `node` blocks.

use std::ops::Range;

use crate::syntax::{Call, Expr, ExprKind, File};

/// What kind of executor an agent declaration selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentKind {
    /// `agent any` / `node { }`: any executor, including the controller's built-in node when
    /// it has executors, and every permanent agent.
    Any,
    /// `agent none`: no executor at this level.
    None,
    /// The controller itself (`label 'master'`, `'built-in'`).
    Controller(String),
    /// A static label: a pool of agents that outlive the build unless the label belongs to a
    /// cloud template (which the Jenkinsfile does not show).
    Label(String),
    /// A label computed at run time.
    DynamicLabel,
    /// A container on a host agent; `escape` names a flag that gives it the host
    /// (`--privileged`, the Docker socket, the host network or PID namespace).
    Docker { escape: Option<String> },
    /// A pod created for the build and deleted afterwards.
    Kubernetes,
}

/// One agent declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub kind: AgentKind,
    /// The declaration (`agent any`, `agent { label 'x' }`, `node('x')`).
    pub range: Range<usize>,
    /// The text the message quotes (`label 'linux'`, `node('x')`).
    pub display: String,
}

/// Labels that name the controller.
const CONTROLLER_LABELS: &[&str] = &["master", "built-in", "controller"];

fn label_kind(label: &str) -> AgentKind {
    let trimmed = label.trim();
    if CONTROLLER_LABELS.contains(&trimmed) {
        AgentKind::Controller(trimmed.to_owned())
    } else if trimmed.is_empty() {
        AgentKind::Any
    } else {
        AgentKind::Label(trimmed.to_owned())
    }
}

/// Flags that hand a container the host.
const ESCAPES: &[&str] = &[
    "--privileged",
    "docker.sock",
    "--pid=host",
    "--pid host",
    "--network=host",
    "--net=host",
    "--network host",
    "--net host",
    "--cap-add=SYS_ADMIN",
    "--cap-add SYS_ADMIN",
];

pub fn docker_escape(args: Option<&str>) -> Option<String> {
    let args = args?;
    ESCAPES
        .iter()
        .find(|flag| args.contains(**flag))
        .map(|flag| (*flag).to_owned())
}

/// A declarative `agent …` section.
pub fn declarative(file: &File, call: &Call, range: Range<usize>) -> Agent {
    let kind = if let Some(block) = &call.closure {
        agent_block(file, block)
    } else {
        match call.positional(0).map(|e| &e.kind) {
            Some(ExprKind::Path(p)) if p.len() == 1 && p[0] == "any" => AgentKind::Any,
            Some(ExprKind::Path(p)) if p.len() == 1 && p[0] == "none" => AgentKind::None,
            Some(ExprKind::Str(_)) => call
                .positional(0)
                .and_then(|e| file.constant(e))
                .map_or(AgentKind::DynamicLabel, label_kind),
            _ => match call.named("label").map(|e| file.constant(e)) {
                Some(Some(label)) => label_kind(label),
                Some(None) => AgentKind::DynamicLabel,
                None => AgentKind::Any,
            },
        }
    };
    let display = match &kind {
        AgentKind::Any => "agent any".to_owned(),
        AgentKind::None => "agent none".to_owned(),
        AgentKind::Controller(label) | AgentKind::Label(label) => {
            format!("agent {{ label '{label}' }}")
        }
        AgentKind::DynamicLabel => "agent { label <computed> }".to_owned(),
        AgentKind::Docker { escape } => format!(
            "agent {{ docker {{ args '…{}…' }} }}",
            escape.as_deref().unwrap_or_default()
        ),
        AgentKind::Kubernetes => "agent { kubernetes { … } }".to_owned(),
    };
    Agent {
        kind,
        range,
        display,
    }
}

/// `agent { label 'x' }`, `{ node { label 'x' } }`, `{ docker { … } }`, `{ kubernetes { … } }`.
fn agent_block(file: &File, block: &[Expr]) -> AgentKind {
    for statement in block {
        let ExprKind::Call(call) = &statement.kind else {
            continue;
        };
        match call.name.as_str() {
            "label" if call.closure.is_some() => {
                return call
                    .closure
                    .as_ref()
                    .map_or(AgentKind::Any, |b| agent_block(file, b));
            }
            "label" => {
                return match call.positional(0) {
                    Some(e) => file.constant(e).map_or(AgentKind::DynamicLabel, label_kind),
                    None => AgentKind::Any,
                };
            }
            "node" => {
                return call
                    .closure
                    .as_ref()
                    .map_or(AgentKind::Any, |b| agent_block(file, b));
            }
            "docker" | "dockerfile" => {
                let args = call
                    .closure
                    .as_ref()
                    .and_then(|b| setting(file, b, "args"))
                    .or_else(|| call.named("args").and_then(|e| file.constant(e)));
                return AgentKind::Docker {
                    escape: docker_escape(args),
                };
            }
            "kubernetes" => return AgentKind::Kubernetes,
            _ => {}
        }
    }
    AgentKind::Any
}

/// The string value of `name 'value'` inside a block.
fn setting<'f>(file: &'f File, block: &[Expr], name: &str) -> Option<&'f str> {
    block.iter().find_map(|statement| match &statement.kind {
        ExprKind::Call(call) if call.name == name => call
            .positional(0)
            .and_then(|e| file.string(e))
            .map(|s| s.cooked.as_str()),
        _ => None,
    })
}

/// A scripted `node(label) { }`; `in_pod` when inside a `podTemplate` (its label is the pod's).
pub fn scripted(file: &File, call: &Call, in_pod: bool) -> Agent {
    let label = call.positional(0).or_else(|| call.named("label"));
    let kind = match label {
        None => AgentKind::Any,
        Some(expr) => match (&expr.kind, file.constant(expr)) {
            (_, Some(label)) if in_pod && !CONTROLLER_LABELS.contains(&label) => {
                AgentKind::Kubernetes
            }
            (_, Some(label)) => label_kind(label),
            (ExprKind::Path(p), None) if in_pod || p.iter().any(|s| s == "POD_LABEL") => {
                AgentKind::Kubernetes
            }
            _ => AgentKind::DynamicLabel,
        },
    };
    let end = label.map_or(call.name_range.end, |l| l.range.end + 1);
    let range = call.name_range.start..end.min(file.source.len());
    Agent {
        kind,
        display: file.source.get(range.clone()).unwrap_or("node").to_owned(),
        range,
    }
}

/// `docker.image('x').inside('--privileged …') { }`: a container on the current agent that
/// is handed the host; `None` for an ordinary container (the agent stays the one in scope).
pub fn inside(file: &File, call: &Call) -> Option<Agent> {
    let args = call.positional(0).and_then(|e| file.string(e))?;
    let escape = docker_escape(Some(&args.cooked))?;
    let range = call.name_range.start..args.range.end.max(call.name_range.end);
    Some(Agent {
        kind: AgentKind::Docker {
            escape: Some(escape.clone()),
        },
        display: format!(".inside('…{escape}…')"),
        range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn kind(source: &str) -> AgentKind {
        let file = parse(source).expect("parses");
        match &file.statements[0].kind {
            ExprKind::Call(call) => declarative(&file, call, file.statements[0].range.clone()).kind,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn declarative_forms() {
        assert_eq!(kind("agent any"), AgentKind::Any);
        assert_eq!(kind("agent none"), AgentKind::None);
        assert_eq!(
            kind("agent { label 'linux' }"),
            AgentKind::Label("linux".into())
        );
        assert_eq!(
            kind("agent { node { label 'built-in' } }"),
            AgentKind::Controller("built-in".into())
        );
        assert_eq!(
            kind(
                "agent { docker { image 'x'; args '-v /var/run/docker.sock:/var/run/docker.sock' } }"
            ),
            AgentKind::Docker {
                escape: Some("docker.sock".into())
            }
        );
        assert_eq!(
            kind("agent { docker 'maven:3' }"),
            AgentKind::Docker { escape: None }
        );
        assert_eq!(
            kind("agent { kubernetes { yaml 'x' } }"),
            AgentKind::Kubernetes
        );
        assert_eq!(kind("agent { label \"${L}\" }"), AgentKind::DynamicLabel);
    }
}
