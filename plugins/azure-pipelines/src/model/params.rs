//! Template parameters: what a template declares, what its caller passes, and what a
//! `${{ parameters.x }}` therefore is at a given place.

use std::rc::Rc;

use sluice_pack_sdk::yaml::Node;

use super::Loc;
use super::yaml_ext;
use crate::expressions::sole_parameter;

/// One declared parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamDecl<'a> {
    pub name: &'a str,
    /// `type:` (`string` when absent, as Azure assumes).
    pub kind: &'a str,
    /// A `values:` list restricts what callers may pass.
    pub has_values: bool,
    pub default: Option<&'a Node>,
}

impl ParamDecl<'_> {
    /// Free text: a `string` (or untyped) parameter without `values:`.
    pub fn is_free_text(&self) -> bool {
        self.kind.eq_ignore_ascii_case("string") && !self.has_values
    }
}

/// Where the parameters of a place come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A pipeline's runtime parameters: chosen by whoever queues the run.
    Pipeline,
    /// A template expanded from a caller in the request.
    Template,
    /// A template nobody in the request uses: any caller may pass anything.
    StandaloneTemplate,
}

/// A value passed by a caller, with the caller's own parameters (its `${{ }}` refer to them).
#[derive(Debug, Clone)]
pub struct Supplied<'a> {
    pub loc: Loc<'a>,
    pub scope: Rc<Params<'a>>,
}

/// The parameters in force in one file of an expansion.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    pub path: &'a str,
    pub origin: Origin,
    pub declared: Vec<ParamDecl<'a>>,
    pub supplied: Vec<(&'a str, Supplied<'a>)>,
    /// `${{ each x in parameters.list }}` loop variables.
    pub loops: Vec<(String, Supplied<'a>)>,
}

/// What a parameter reference stands for.
#[derive(Debug, Clone)]
pub enum Resolved<'a> {
    /// A value written somewhere in the request.
    Value(Supplied<'a>),
    /// Not known before the run: chosen by a caller outside the request or whoever queues it.
    Unknown(Option<ParamDecl<'a>>, Origin),
}

const MAX_CHAIN: usize = 16;

impl<'a> Params<'a> {
    /// Parameters of a file with no caller.
    pub fn root(path: &'a str, root: &'a Node, origin: Origin) -> Rc<Params<'a>> {
        Rc::new(Params {
            path,
            origin,
            declared: declarations(root),
            supplied: Vec::new(),
            loops: Vec::new(),
        })
    }

    /// Parameters of a template called with `parameters` (the caller's mapping).
    pub fn template(
        path: &'a str,
        root: &'a Node,
        caller_path: &'a str,
        parameters: Option<&'a Node>,
        caller: &Rc<Params<'a>>,
    ) -> Rc<Params<'a>> {
        let supplied = parameters
            .map(|p| {
                yaml_ext::entries(p)
                    .into_iter()
                    .filter_map(|(key, value, _)| {
                        Some((
                            key.as_str()?,
                            Supplied {
                                loc: Loc {
                                    path: caller_path,
                                    node: value,
                                },
                                scope: Rc::clone(caller),
                            },
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Rc::new(Params {
            path,
            origin: Origin::Template,
            declared: declarations(root),
            supplied,
            loops: Vec::new(),
        })
    }

    /// The same parameters with a loop variable bound.
    pub fn with_loop(self: &Rc<Self>, name: &str, value: Supplied<'a>) -> Rc<Params<'a>> {
        let mut copy = (**self).clone();
        copy.loops.push((name.to_owned(), value));
        Rc::new(copy)
    }

    pub fn declaration(&self, name: &str) -> Option<ParamDecl<'a>> {
        self.declared
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
            .copied()
    }

    /// What `${{ parameters.<name> }}` is here.
    pub fn resolve(self: &Rc<Self>, name: &str) -> Resolved<'a> {
        self.resolve_chain(name, 0)
    }

    fn resolve_chain(self: &Rc<Self>, name: &str, depth: usize) -> Resolved<'a> {
        let declaration = self.declaration(name);
        if let Some((_, supplied)) = self
            .supplied
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            if depth < MAX_CHAIN
                && let Some(inner) = supplied.loc.node.as_str().and_then(sole_parameter)
            {
                return supplied.scope.resolve_chain(inner, depth + 1);
            }
            return Resolved::Value(supplied.clone());
        }
        match (self.origin, declaration.and_then(|d| d.default)) {
            (Origin::Template, Some(default)) => Resolved::Value(Supplied {
                loc: Loc {
                    path: self.path,
                    node: default,
                },
                scope: Rc::clone(self),
            }),
            _ => Resolved::Unknown(declaration, self.origin),
        }
    }

    /// What a loop variable (`${{ step }}` inside `${{ each step in … }}`) is bound to.
    pub fn loop_value(&self, name: &str) -> Option<&Supplied<'a>> {
        self.loops
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// The `parameters:` a file declares: the list form (`- name: x type: string`) or the old
/// mapping form (`x: default`).
fn declarations(root: &Node) -> Vec<ParamDecl<'_>> {
    let Some(parameters) = yaml_ext::get(root, "parameters") else {
        return Vec::new();
    };
    if let Some(items) = parameters.as_sequence() {
        return items
            .iter()
            .filter_map(|item| {
                Some(ParamDecl {
                    name: yaml_ext::get_str(item, "name")?,
                    kind: yaml_ext::get_str(item, "type").unwrap_or("string"),
                    has_values: yaml_ext::has(item, "values"),
                    default: yaml_ext::get(item, "default"),
                })
            })
            .collect();
    }
    yaml_ext::entries(parameters)
        .into_iter()
        .filter_map(|(key, value, _)| {
            let kind = match (&value.value, value.as_str()) {
                (sluice_pack_sdk::yaml::Value::Sequence(_), _)
                | (sluice_pack_sdk::yaml::Value::Mapping(_), _) => "object",
                (_, Some(text))
                    if matches!(text.to_ascii_lowercase().as_str(), "true" | "false") =>
                {
                    "boolean"
                }
                (_, Some(text)) if text.parse::<f64>().is_ok() => "number",
                _ => "string",
            };
            Some(ParamDecl {
                name: key.as_str()?,
                kind,
                has_values: false,
                default: Some(value),
            })
        })
        .collect()
}
