//! PATCH bodies by content type: merge (RFC 7386), JSON patch (RFC 6902), strategic merge
//! (approximated as merge; refused for CRD-backed kinds like a real apiserver).

use serde_json::Value;

use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchKind {
    pub fn from_content_type(ct: Option<&str>) -> Result<Self, ApiError> {
        let ct = ct.unwrap_or("").split(';').next().unwrap_or("").trim();
        match ct {
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/apply-patch+yaml" => Ok(PatchKind::Apply),
            other => Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
                ),
            )),
        }
    }
}

/// Applies a non-SSA patch to a copy of `live`.
pub fn apply_patch(
    kind: PatchKind,
    is_crd: bool,
    live: &Value,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut out = live.clone();
    match kind {
        PatchKind::Merge | PatchKind::Strategic => {
            if kind == PatchKind::Strategic && is_crd {
                return Err(ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                ));
            }
            let p: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid merge patch: {e}")))?;
            json_patch::merge(&mut out, &p);
        }
        PatchKind::Json => {
            let p: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut out, &p).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
        }
        PatchKind::Apply => {
            return Err(ApiError::new(
                500,
                "InternalError",
                "server-side apply is handled by ssa::apply",
            ));
        }
    }
    Ok(out)
}

/// A `metadata.resourceVersion` in a patch body is a precondition on the live object.
pub fn rv_precondition(kind: PatchKind, body: &[u8]) -> Option<String> {
    if kind == PatchKind::Json {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}
