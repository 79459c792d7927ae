//! A container of a Task: step, sidecar or step template (the same fields).

use sluice_pack_sdk::yaml::{Node, RouteSegment};

use super::items;
use super::task::Ref;

/// Programs whose argument after a flag is code: shells (`-c`, `-Command`) and script
/// interpreters (`python -c`, `node -e`, …).
const INTERPRETERS: &[(&str, &[&str])] = &[
    ("sh", &["-c"]),
    ("bash", &["-c"]),
    ("zsh", &["-c"]),
    ("dash", &["-c"]),
    ("ash", &["-c"]),
    ("ksh", &["-c"]),
    ("pwsh", &["-c", "-command"]),
    ("powershell", &["-c", "-command"]),
    ("python", &["-c"]),
    ("python3", &["-c"]),
    ("node", &["-e", "--eval"]),
    ("perl", &["-e"]),
    ("ruby", &["-e"]),
];

#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub node: &'a Node,
    /// `step`, `sidecar` or `stepTemplate`, for messages.
    pub role: &'static str,
}

impl<'a> Step<'a> {
    pub fn new(node: &'a Node, role: &'static str) -> Step<'a> {
        Step { node, role }
    }

    pub fn name(&self) -> Option<&'a str> {
        self.node
            .get("name")
            .and_then(Node::as_str)
            .filter(|n| !n.trim().is_empty())
    }

    /// "step `build`", "sidecar #2", "stepTemplate".
    pub fn label(&self) -> String {
        match self.name() {
            Some(name) => format!("{} `{name}`", self.role),
            None if self.role == "stepTemplate" => "stepTemplate".to_owned(),
            None => {
                let index = match self.node.route.segments().last() {
                    Some(RouteSegment::Index(i)) => i + 1,
                    _ => 0,
                };
                format!("{} #{index}", self.role)
            }
        }
    }

    /// "step `build` of Task `t`"; a StepAction is its own owner.
    pub fn place(&self, owner: &str) -> String {
        if self.role == "StepAction" {
            owner.to_owned()
        } else {
            format!("{} of {owner}", self.label())
        }
    }

    /// The container image; `None` for a Jenkins X step import (see [`Step::lighthouse_import`]).
    pub fn image(&self) -> Option<&'a Node> {
        self.node
            .get("image")
            .filter(|image| self.lighthouse_import().is_none() || image.as_str().is_none())
    }

    /// Jenkins X / Lighthouse step inheritance, `image: uses:org/repo/path.yaml@ref`: not an
    /// image but steps imported from another repository when Lighthouse builds the run.
    pub fn lighthouse_import(&self) -> Option<&'a Node> {
        self.node.get("image").filter(|image| {
            image
                .as_str()
                .is_some_and(|i| i.trim_start().starts_with("uses:"))
        })
    }

    pub fn script(&self) -> Option<&'a Node> {
        self.node.get("script").filter(|n| n.as_scalar().is_some())
    }

    /// A StepAction reference (`ref: {name | resolver}`).
    pub fn reference(&self) -> Option<Ref<'a>> {
        self.node
            .get("ref")
            .filter(|n| n.as_mapping().is_some())
            .map(|node| Ref { node })
    }

    /// `command` then `args`, as one argv.
    pub fn argv(&self) -> Vec<&'a Node> {
        items(self.node.get("command"))
            .iter()
            .chain(items(self.node.get("args")))
            .collect()
    }

    /// The code a shell or interpreter runs from argv (`[sh, -c, "…"]`, `[bash, -ec]` +
    /// `args: ["…"]`, `[python3, -c, "…"]`). Words after it are positional parameters: data.
    pub fn shell_script_arg(&self) -> Option<&'a Node> {
        let argv = self.argv();
        let program = argv.first()?.as_str()?.trim();
        let base = program.rsplit('/').next().unwrap_or(program);
        let (_, flags) = INTERPRETERS.iter().find(|(name, _)| *name == base)?;
        let flag = argv.iter().skip(1).position(|word| {
            word.as_str().is_some_and(|w| {
                let lower = w.to_ascii_lowercase();
                flags.contains(&lower.as_str())
                    // Combined short options: `-ec`, `-ce`, `-euxc`.
                    || (flags.contains(&"-c")
                        && lower.starts_with('-')
                        && !lower.starts_with("--")
                        && lower.contains('c'))
            })
        })?;
        argv.get(flag + 2)
            .copied()
            .filter(|n| n.as_scalar().is_some())
    }

    /// `env: [{name, value | valueFrom}]`.
    pub fn env(&self) -> &'a [Node] {
        items(self.node.get("env"))
    }

    pub fn env_from(&self) -> &'a [Node] {
        items(self.node.get("envFrom"))
    }

    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get("securityContext")
    }
}
