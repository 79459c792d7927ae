//! The typed view of Azure Pipelines files the rules read.
//!
//! A pipeline is expanded the way Azure compiles it, as far as the files of the request allow:
//! stages → jobs → steps, `template:` references (stage, job, step and variable level, and
//! `extends:`) followed into the referenced file with its parameters, `${{ if … }}:` /
//! `${{ each … }}:` insertions descended into (the branch may be taken). Each [`Job`] and
//! [`Step`] remembers the file it was written in, so findings point at the template's own
//! line.

pub mod expand;
pub mod params;
pub mod pool;
pub mod repository;
pub mod steps;
pub mod triggers;
pub mod yaml_ext;

use std::rc::Rc;

use sluice_pack_sdk::Span;
use sluice_pack_sdk::yaml::Node;

pub use params::Params;
pub use pool::Pool;
pub use triggers::{PrTrigger, Triggers};

/// A node and the file it is written in.
#[derive(Debug, Clone, Copy)]
pub struct Loc<'a> {
    pub path: &'a str,
    pub node: &'a Node,
}

/// A `condition:` or a `${{ if … }}:` insertion that a job or step runs under.
#[derive(Debug, Clone)]
pub struct Condition<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub span: Span,
}

/// One variable definition (`name: value` or `- name: … value: …`).
#[derive(Debug, Clone)]
pub struct Variable<'a> {
    pub path: &'a str,
    pub name: &'a str,
    pub name_node: &'a Node,
    pub value: &'a Node,
    /// The template parameters in force where the variable is written.
    pub params: Rc<Params<'a>>,
}

/// A `- group:` entry and the `${{ if }}` insertions it sits under.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub loc: Loc<'a>,
    pub conditions: Vec<Condition<'a>>,
}

/// One job after expansion, with everything it inherits.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// The file the job is written in.
    pub path: &'a str,
    /// `job:`/`deployment:` name, or a description for the implicit job of root `steps:`.
    pub id: String,
    /// Where job-level findings point (the job's name, or the `steps:` key).
    pub anchor: Span,
    pub stage: Option<String>,
    /// A deployment job (`deployment:`).
    pub deployment: bool,
    /// The deployment job's `environment:` (approvals and checks may gate it).
    pub environment: Option<Loc<'a>>,
    pub pool: Pool<'a>,
    /// Stage, job and template-insertion conditions, outermost first.
    pub conditions: Vec<Condition<'a>>,
    /// `- group:` entries of the root, stage and job variables.
    pub groups: Vec<Group<'a>>,
    /// Variables defined at root, stage and job level (for aliases).
    pub variables: Vec<Variable<'a>>,
    /// `container:` (an image or a container resource alias).
    pub container: Option<Loc<'a>>,
    /// `services:` values.
    pub services: Vec<Loc<'a>>,
    pub steps: Vec<Step<'a>>,
}

/// One step after expansion.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The file the step is written in.
    pub path: &'a str,
    pub node: &'a Node,
    /// The template parameters in force where the step is written.
    pub params: Rc<Params<'a>>,
    /// Template insertions the step sits in, plus its own `condition:`.
    pub conditions: Vec<Condition<'a>>,
}

/// A `resources.repositories` entry.
#[derive(Debug, Clone)]
pub struct RepositoryResource<'a> {
    pub path: &'a str,
    pub alias: &'a Node,
    pub name: Option<&'a Node>,
    pub reference: Option<&'a Node>,
}

/// A `resources.containers` entry.
#[derive(Debug, Clone)]
pub struct ContainerResource<'a> {
    pub path: &'a str,
    pub alias: &'a str,
    pub image: Option<&'a Node>,
}

/// Something in the pipeline that uses a repository resource by alias.
#[derive(Debug, Clone)]
pub struct RepositoryUse<'a> {
    pub path: &'a str,
    pub alias: String,
    pub node: &'a Node,
    /// `template` (code that becomes the pipeline) or `checkout`.
    pub kind: &'static str,
}

/// One analysed pipeline: a file nobody uses as a template, with everything it includes.
#[derive(Debug)]
pub struct Unit<'a> {
    pub path: &'a str,
    pub root: &'a Node,
    /// A template nobody in the request uses, analysed on its own: its triggers are unknown.
    pub standalone_template: bool,
    pub triggers: Triggers<'a>,
    pub jobs: Vec<Job<'a>>,
    pub repositories: Vec<RepositoryResource<'a>>,
    pub containers: Vec<ContainerResource<'a>>,
    pub repository_uses: Vec<RepositoryUse<'a>>,
    /// Every variable definition met anywhere in the expansion (any level).
    pub all_variables: Vec<Variable<'a>>,
    /// Every template file the expansion entered.
    pub reached: Vec<&'a str>,
}

impl Unit<'_> {
    /// The confidence ceiling that the unknown context of a standalone template imposes.
    pub fn is_context_known(&self) -> bool {
        !self.standalone_template
    }
}

/// A short description of a job for messages: ``job `build` `` or ``job `build` in stage `ci` ``.
pub fn describe_job(job: &Job<'_>) -> String {
    // Steps handed to a template as a parameter form an implicit job whose id is already a
    // description, `(steps passed as parameter `x`)`.
    let job_text = match job.id.as_str() {
        "(pipeline steps)" => "the pipeline's top-level steps job".to_owned(),
        "(unnamed job)" => "an unnamed job".to_owned(),
        id => match id.strip_prefix('(').and_then(|id| id.strip_suffix(')')) {
            Some(description) => format!("the job of the {description}"),
            None => format!("job `{id}`"),
        },
    };
    match &job.stage {
        Some(stage) => format!("{job_text} of stage `{stage}`"),
        None => job_text,
    }
}
