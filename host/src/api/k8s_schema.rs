//! Schemas for the Kubernetes types embedded in our CRDs. `k8s-openapi` implements
//! `JsonSchema` only behind its `schemars` feature, which would rebuild it and everything above
//! it for three small types; these mirror the upstream OpenAPI definitions instead.

use schemars::{Schema, SchemaGenerator, json_schema};

/// `[]metav1.Condition`, as a map-list keyed by `type` so server-side apply merges by type.
pub fn conditions(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The latest observations of the object's state, one per condition type.",
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": {
            "description": "A metav1.Condition.",
            "type": "object",
            "required": ["type", "status", "lastTransitionTime", "reason", "message"],
            "properties": {
                "type": {
                    "description": "Type of the condition, in CamelCase.",
                    "type": "string",
                    "maxLength": 316,
                    "pattern": "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
                },
                "status": {
                    "description": "Status of the condition: True, False or Unknown.",
                    "type": "string",
                    "enum": ["True", "False", "Unknown"]
                },
                "observedGeneration": {
                    "description": "The .metadata.generation the condition was set from.",
                    "type": "integer",
                    "format": "int64",
                    "minimum": 0
                },
                "lastTransitionTime": {
                    "description": "When the condition last changed status.",
                    "type": "string",
                    "format": "date-time"
                },
                "reason": {
                    "description": "A CamelCase reason for the last transition.",
                    "type": "string",
                    "maxLength": 1024,
                    "minLength": 1,
                    "pattern": "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
                },
                "message": {
                    "description": "A human-readable message about the transition.",
                    "type": "string",
                    "maxLength": 32768
                }
            }
        }
    })
}

/// `metav1.LabelSelectorRequirement` items.
pub fn label_selector_requirements(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Label selector requirements, ANDed together.",
        "type": "array",
        "items": requirement()
    })
}

/// `metav1.LabelSelector`; `null` and absent mean the same as an empty selector.
pub fn label_selector(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A label query; an empty selector matches everything.",
        "type": "object",
        "nullable": true,
        "properties": {
            "matchLabels": string_map_value("Labels that must all be present with these values."),
            "matchExpressions": {
                "description": "Label selector requirements, ANDed together.",
                "type": "array",
                "items": requirement()
            }
        }
    })
}

fn string_map_value(description: &str) -> serde_json::Value {
    serde_json::json!({
        "description": description,
        "type": "object",
        "additionalProperties": { "type": "string" }
    })
}

fn requirement() -> serde_json::Value {
    serde_json::json!({
        "description": "A selector requirement: a key, an operator and values.",
        "type": "object",
        "required": ["key", "operator"],
        "properties": {
            "key": { "description": "The label key.", "type": "string" },
            "operator": {
                "description": "How the key relates to the values.",
                "type": "string",
                "enum": ["In", "NotIn", "Exists", "DoesNotExist"]
            },
            "values": {
                "description": "Non-empty for In and NotIn, empty for Exists and DoesNotExist.",
                "type": "array",
                "items": { "type": "string" }
            }
        }
    })
}
