//! Tekton `Pipeline`: the object in the cluster is itself the pipeline definition, so its YAML
//! is scanned by the Tekton pack; no repository is needed.

use serde_json::{Value, json};

use super::Resolution;

pub fn resolve_pipeline(pipeline: &Value) -> Resolution {
    let name = pipeline
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("pipeline");
    let namespace = pipeline
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    // Only what a pipeline author wrote: status and server-managed metadata would change the
    // text (and the findings' lines) without changing the pipeline.
    let document = json!({
        "apiVersion": pipeline.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": "Pipeline",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": pipeline.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
        },
        "spec": pipeline.get("spec").cloned().unwrap_or(json!({})),
    });
    let document = serde_yaml::to_string(&document).expect("a JSON value always renders as YAML");
    Resolution::Inline {
        file_name: format!(".tekton/{namespace}/{name}.yaml"),
        document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_is_rendered_without_status_or_server_metadata() {
        let pipeline = json!({
            "apiVersion": "tekton.dev/v1", "kind": "Pipeline",
            "metadata": {"name": "build", "namespace": "ci", "uid": "u-1", "resourceVersion": "9",
                         "managedFields": [{"manager": "kubectl"}]},
            "spec": {"tasks": [{"name": "t", "taskSpec": {"steps": [{"image": "alpine", "script": "echo $(params.x)"}]}}]},
            "status": {"whatever": true}
        });
        let Resolution::Inline {
            file_name,
            document,
        } = resolve_pipeline(&pipeline)
        else {
            panic!("inline expected");
        };
        assert_eq!(file_name, ".tekton/ci/build.yaml");
        assert!(document.contains("tekton.dev/v1"));
        assert!(document.contains("echo $(params.x)"));
        for absent in ["resourceVersion", "managedFields", "whatever", "u-1"] {
            assert!(
                !document.contains(absent),
                "{absent} leaked into:\n{document}"
            );
        }
    }
}
