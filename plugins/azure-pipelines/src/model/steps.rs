//! What a step is and which of its texts the agent runs as a script.

use sluice_pack_sdk::yaml::Node;

use super::{Step, yaml_ext};

/// The shorthand script keys and the shell each runs in.
pub const SCRIPT_KEYS: &[&str] = &["script", "bash", "powershell", "pwsh"];

/// Task inputs that hold an inline script (Bash@3 / PowerShell@2 / CmdLine@2 `script`,
/// AzureCLI@2 `inlineScript`, AzurePowerShell@5 `Inline`, …).
const INLINE_SCRIPT_INPUTS: &[&str] = &["script", "inlinescript", "inline"];

/// Task inputs that are a command line handed to a shell by script-running tasks.
const ARGUMENT_INPUTS: &[&str] = &["arguments", "scriptarguments"];

/// Tasks that run a script (their `arguments` reach a shell command line).
const SCRIPT_TASKS: &[&str] = &[
    "bash",
    "powershell",
    "azurecli",
    "azurepowershell",
    "cmdline",
    "shellscript",
    "batchscript",
    "pythonscript",
];

/// A script text of a step.
#[derive(Debug, Clone, Copy)]
pub struct ScriptText<'a> {
    pub node: &'a Node,
    /// `bash`, `script`, `inputs.inlineScript`, …
    pub key: &'a str,
    /// An inline script (false for an `arguments` command line).
    pub inline: bool,
}

impl<'a> Step<'a> {
    /// The `task:` value (`AzureCLI@2`).
    pub fn task(&self) -> Option<&'a Node> {
        yaml_ext::get(self.node, "task")
    }

    /// The task's name without version, lower case (`azurecli`).
    pub fn task_base(&self) -> Option<String> {
        let name = self.task()?.as_str()?;
        let base = name.split('@').next().unwrap_or(name);
        // `Microsoft.Foo.Bar` marketplace ids: the last segment names the task.
        Some(base.trim().to_ascii_lowercase())
    }

    /// `inputs:` entries, insertions flattened.
    pub fn inputs(&self) -> Vec<(&'a Node, &'a Node)> {
        yaml_ext::get(self.node, "inputs")
            .map(|inputs| {
                yaml_ext::entries(inputs)
                    .into_iter()
                    .map(|(k, v, _)| (k, v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An input by name, case-insensitive (Azure's input names are).
    pub fn input(&self, name: &str) -> Option<(&'a Node, &'a Node)> {
        self.inputs()
            .into_iter()
            .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
    }

    /// `env:` entries, insertions flattened.
    pub fn env(&self) -> Vec<(&'a Node, &'a Node)> {
        yaml_ext::get(self.node, "env")
            .map(|env| {
                yaml_ext::entries(env)
                    .into_iter()
                    .map(|(k, v, _)| (k, v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every text of the step the agent hands to a shell.
    pub fn scripts(&self) -> Vec<ScriptText<'a>> {
        let mut out = Vec::new();
        for key in SCRIPT_KEYS {
            if let Some((k, value)) = yaml_ext::entry(self.node, key)
                && value.as_str().is_some()
                && let Some(key) = k.as_str()
            {
                out.push(ScriptText {
                    node: value,
                    key,
                    inline: true,
                });
            }
        }
        if self.task().is_some() {
            let script_task = self
                .task_base()
                .is_some_and(|t| SCRIPT_TASKS.contains(&t.as_str()));
            for (key, value) in self.inputs() {
                let (Some(name), Some(_)) = (key.as_str(), value.as_str()) else {
                    continue;
                };
                let lower = name.to_ascii_lowercase();
                if INLINE_SCRIPT_INPUTS.contains(&lower.as_str()) {
                    out.push(ScriptText {
                        node: value,
                        key: name,
                        inline: true,
                    });
                } else if script_task && ARGUMENT_INPUTS.contains(&lower.as_str()) {
                    out.push(ScriptText {
                        node: value,
                        key: name,
                        inline: false,
                    });
                }
            }
        }
        out
    }

    /// Whether the step runs code of the repository (a script or a build tool task).
    pub fn runs_code(&self) -> bool {
        if !self.scripts().is_empty() {
            return true;
        }
        self.task_base()
            .is_some_and(|t| BUILD_TASKS.iter().any(|b| t == *b))
    }

    /// `checkout:` value.
    pub fn checkout(&self) -> Option<&'a Node> {
        yaml_ext::get(self.node, "checkout")
    }

    /// For messages: `displayName`, else the task or script key.
    pub fn label(&self) -> String {
        if let Some(name) = yaml_ext::get_str(self.node, "displayName") {
            return name.to_owned();
        }
        if let Some(task) = self.task().and_then(Node::as_str) {
            return task.to_owned();
        }
        for key in SCRIPT_KEYS
            .iter()
            .chain(["checkout", "download", "publish", "template"].iter())
        {
            if yaml_ext::has(self.node, key) {
                return (*key).to_owned();
            }
        }
        "step".to_owned()
    }
}

/// Tasks that build, test or install the repository's code (and so run it: build scripts,
/// package lifecycle hooks, tests).
const BUILD_TASKS: &[&str] = &[
    "dotnetcorecli",
    "msbuild",
    "vsbuild",
    "vstest",
    "npm",
    "maven",
    "gradle",
    "ant",
    "cmake",
    "make",
    "xcode",
    "nugetcommand",
    "pythonscript",
    "gulp",
    "grunt",
    "go",
    "docker",
    "dockercompose",
    "cargo",
];
