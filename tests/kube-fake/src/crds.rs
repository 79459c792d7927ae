//! Loading objects and CRDs from (multi-document) YAML, e.g. the real upstream CRDs.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::{Resource, split_api_version};
use crate::store::State;

#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("expected a CustomResourceDefinition, got {0}")]
    NotACrd(String),
    #[error("the fake API server refused the object: {} {} ({})", .0.code, .0.reason, .0.message)]
    Api(ApiError),
    #[error(
        "upstream CRDs not found at {0} (set SLUICE_UPSTREAM_CRDS, or check that `shared/upstream-crds` sits next to the repository clone)"
    )]
    UpstreamMissing(PathBuf),
}

/// The non-empty documents of a multi-document YAML string, as JSON values.
pub fn documents(yaml: &str) -> Result<Vec<Value>, CrdError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let v = Value::deserialize(doc)?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, CrdError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CrdError::Io(dir.to_path_buf(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Where the upstream CRDs live: `$SLUICE_UPSTREAM_CRDS`, else `shared/upstream-crds` next to
/// the repository (`<this crate>/../../../shared/upstream-crds`). Errors if it does not exist.
pub fn upstream_crds_dir() -> Result<PathBuf, CrdError> {
    let dir = match std::env::var_os("SLUICE_UPSTREAM_CRDS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream-crds"),
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(CrdError::UpstreamMissing(dir))
    }
}

/// The served resource an object's `apiVersion` + `kind` names.
pub fn resource_for(st: &State, obj: &Value) -> Result<Resource, ApiError> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let (g, v) = split_api_version(api_version);
    st.registry.find_kind(g, v, kind).cloned().ok_or_else(|| {
        ApiError::new(
            404,
            "NotFound",
            format!("no kind \"{kind}\" is registered for version \"{api_version}\""),
        )
    })
}
