//! Every Tekton object of the scan, by kind and name, for following local references
//! (`taskRef: {name: build}`, `pipelineRef`, step `ref`) and trigger bindings.

use std::collections::HashMap;

use sluice_pack_sdk::yaml::Node;

use crate::model::{Kind, Resource, items, task::bindings_of};
use crate::sources;
use crate::substitution::{self, Reference};

/// One recognised object and its file.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub path: &'a str,
    pub resource: Resource<'a>,
}

/// What the scan's `TriggerBinding`s (and `EventListener` inline bindings) put in a
/// `TriggerTemplate` param.
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// The first binding value that reads event text, such as `$(body.pull_request.title)`.
    pub attacker: Option<String>,
    /// Whether any binding of that name was found.
    pub known: bool,
}

/// One `EventListener` trigger that instantiates a `TriggerTemplate`.
#[derive(Debug, Clone)]
pub struct Listener<'a> {
    /// `EventListener` name.
    pub name: &'a str,
    /// The event types its forge interceptor accepts (`eventTypes`); `None` when nothing in
    /// the trigger filters by event type.
    pub events: Option<Vec<&'a str>>,
}

#[derive(Debug, Default)]
pub struct Repository<'a> {
    pub entries: Vec<Entry<'a>>,
    by_name: HashMap<(KindKey, &'a str), Vec<usize>>,
    bindings: HashMap<&'a str, Binding>,
    /// Listeners by the template they instantiate.
    listeners: HashMap<&'a str, Vec<Listener<'a>>>,
}

/// Kinds that references can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KindKey {
    Task,
    Pipeline,
    StepAction,
}

impl<'a> Repository<'a> {
    pub fn new(entries: Vec<Entry<'a>>) -> Repository<'a> {
        let mut repository = Repository {
            entries,
            ..Repository::default()
        };
        for (index, entry) in repository.entries.iter().enumerate() {
            let key = match entry.resource.kind {
                Kind::Task | Kind::ClusterTask => Some(KindKey::Task),
                Kind::Pipeline => Some(KindKey::Pipeline),
                Kind::StepAction => Some(KindKey::StepAction),
                _ => None,
            };
            if let Some(key) = key {
                repository
                    .by_name
                    .entry((key, entry.resource.name))
                    .or_default()
                    .push(index);
            }
            let spec = entry.resource.spec();
            match entry.resource.kind {
                Kind::TriggerBinding | Kind::ClusterTriggerBinding => {
                    record_bindings(&mut repository.bindings, spec.and_then(|s| s.get("params")));
                }
                Kind::EventListener => {
                    for trigger in items(spec.and_then(|s| s.get("triggers"))) {
                        record_bindings(&mut repository.bindings, trigger.get("bindings"));
                        let template = trigger
                            .get("template")
                            .and_then(|t| t.get("ref").or_else(|| t.get("name")))
                            .and_then(Node::as_str);
                        if let Some(template) = template {
                            repository
                                .listeners
                                .entry(template)
                                .or_default()
                                .push(Listener {
                                    name: entry.resource.name,
                                    events: event_types(trigger),
                                });
                        }
                    }
                }
                _ => {}
            }
        }
        repository
    }

    /// The object a local reference from file `from` names. When the scan defines the name
    /// more than once (a monorepo, or several repositories scanned together), the definition
    /// whose path shares the longest directory prefix with `from` wins, then the first.
    pub fn find(&self, kind: KindKey, name: &str, from: &str) -> Option<&Entry<'a>> {
        let indices = self.by_name.get(&(kind, name))?;
        let mut best: Option<(usize, usize)> = None;
        for &index in indices {
            let shared = shared_directories(from, self.entries[index].path);
            if best.is_none_or(|(_, most)| shared > most) {
                best = Some((index, shared));
            }
        }
        best.map(|(index, _)| &self.entries[index])
    }

    pub fn binding(&self, name: &str) -> Option<&Binding> {
        self.bindings.get(name)
    }

    /// The scan's `EventListener` triggers that instantiate template `name`.
    pub fn listeners(&self, name: &str) -> &[Listener<'a>] {
        self.listeners.get(name).map_or(&[], Vec::as_slice)
    }
}

fn record_bindings<'a>(bindings: &mut HashMap<&'a str, Binding>, params: Option<&'a Node>) {
    for (name, value) in bindings_of(params) {
        let binding = bindings.entry(name).or_default();
        binding.known = true;
        let text = value.as_str().unwrap_or_default();
        for substitution in substitution::references(text) {
            if let Reference::EventField(field) = &substitution.reference
                && sources::is_attacker_trigger_field(field)
                && binding.attacker.is_none()
            {
                binding.attacker = Some(substitution.text.to_owned());
            }
        }
    }
}

/// `eventTypes` of a trigger's forge interceptors: `ref: {name: github}` with params (current
/// form) or `github: {eventTypes: […]}` (v1alpha1 form).
fn event_types<'a>(trigger: &'a Node) -> Option<Vec<&'a str>> {
    let mut found: Option<Vec<&'a str>> = None;
    for interceptor in items(trigger.get("interceptors")) {
        let mut lists: Vec<&'a Node> = Vec::new();
        if let Some((_, value)) = bindings_of(interceptor.get("params"))
            .into_iter()
            .find(|(name, _)| *name == "eventTypes")
        {
            lists.push(value);
        }
        for forge in ["github", "gitlab", "bitbucket"] {
            if let Some(value) = interceptor.get(forge).and_then(|f| f.get("eventTypes")) {
                lists.push(value);
            }
        }
        for list in lists {
            let events = found.get_or_insert_with(Vec::new);
            events.extend(items(Some(list)).iter().filter_map(Node::as_str));
        }
    }
    found
}

/// How many leading directories two `/`-separated paths share.
fn shared_directories(a: &str, b: &str) -> usize {
    let directories = |p: &'_ str| -> Vec<String> {
        let mut parts: Vec<String> = p.split('/').map(str::to_owned).collect();
        parts.pop();
        parts
    };
    directories(a)
        .iter()
        .zip(directories(b).iter())
        .take_while(|(x, y)| x == y)
        .count()
}

#[cfg(test)]
mod tests {
    use super::shared_directories;

    #[test]
    fn nearer_definitions_share_more_directories() {
        assert_eq!(
            shared_directories("a/b/.tekton/pr.yaml", "a/b/tasks/t.yaml"),
            2
        );
        assert_eq!(shared_directories("a/b/pr.yaml", "c/t.yaml"), 0);
        assert_eq!(shared_directories("pr.yaml", "t.yaml"), 0);
    }
}
