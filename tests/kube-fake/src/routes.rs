//! Request routing: URL → resource, and the verbs on collections, objects and `/status`.

use std::collections::HashMap;
use std::time::Duration;

use http::Response;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::patch::{PatchKind, apply_patch, rv_precondition};
use crate::registry::Resource;
use crate::selector::Selector;
use crate::store::{DeleteOptions, ObjKey, State, meta_mut, meta_str};
use crate::watch::{WatchRequest, present};
use crate::wire::{BoxBody, error_response, json_response, stream_response};
use crate::{discovery, ssa, watch};

/// A decoded request, as the router needs it.
#[derive(Debug)]
pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: HashMap<String, String>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub user_agent: Option<&'a str>,
}

impl Req<'_> {
    /// The field manager of a non-apply write: `fieldManager`, else the User-Agent's product
    /// (the apiserver's default), else "unknown".
    fn update_manager(&self) -> String {
        self.query
            .get("fieldManager")
            .filter(|m| !m.is_empty())
            .cloned()
            .or_else(|| {
                self.user_agent
                    .and_then(|ua| ua.split('/').next())
                    .filter(|m| !m.is_empty())
                    .map(String::from)
            })
            .unwrap_or_else(|| "unknown".into())
    }
}

/// Stores an update and gives its manager the fields it changed (as the apiserver does for
/// `Update` operations, so a later apply by someone else conflicts on them).
fn update_owned(
    st: &mut State,
    req: &Req<'_>,
    key: &ObjKey,
    new: Value,
) -> Result<Value, ApiError> {
    let old = st.get(key).cloned();
    let out = st.update(key, new)?;
    if st.objects.contains_key(key) {
        let managers = st.managers.entry(key.clone()).or_default();
        ssa::record_update(old.as_ref(), &out, managers, &req.update_manager());
    }
    Ok(out)
}

enum Target {
    Collection {
        res: Resource,
        ns: Option<String>,
    },
    Object {
        res: Resource,
        ns: Option<String>,
        name: String,
        sub: Option<String>,
    },
}

fn unknown() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn resolve(st: &State, path: &str) -> Result<Target, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(unknown()),
    };
    let (ns, plural, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..] if *plural != "status" && *plural != "finalize" => {
            (Some(ns.to_string()), *plural, tail)
        }
        [plural, tail @ ..] => (None, *plural, tail),
        [] => return Err(unknown()),
    };
    let res = st
        .registry
        .find(group, version, plural)
        .cloned()
        .ok_or_else(unknown)?;
    if ns.is_some() && !res.namespaced {
        return Err(unknown());
    }
    match tail {
        [] => Ok(Target::Collection { res, ns }),
        [name] => Ok(Target::Object {
            res,
            ns,
            name: name.to_string(),
            sub: None,
        }),
        [name, sub] if *sub == "status" && res.status_subresource => Ok(Target::Object {
            res,
            ns,
            name: name.to_string(),
            sub: Some(sub.to_string()),
        }),
        _ => Err(unknown()),
    }
}

pub fn dispatch(st: &mut State, req: &Req<'_>, bookmark_interval: Duration) -> Response<BoxBody> {
    if req.method == "GET"
        && let Some(v) = discovery::answer(st, req.path)
    {
        return json_response(200, &v);
    }
    let result = match resolve(st, req.path) {
        Err(e) => Err(e),
        Ok(Target::Collection { res, ns }) => match req.method {
            "GET" if flag(req, "watch") => {
                watch_collection(st, req, res, ns, bookmark_interval).map(stream_response)
            }
            "GET" => list(st, req, &res, ns.as_deref()).map(|v| json_response(200, &v)),
            "POST" => create(st, req, &res, ns.as_deref()).map(|v| json_response(201, &v)),
            "DELETE" => {
                delete_collection(st, req, &res, ns.as_deref()).map(|v| json_response(200, &v))
            }
            _ => Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )),
        },
        Ok(Target::Object { res, ns, name, sub }) => {
            if res.namespaced && ns.is_none() {
                Err(unknown())
            } else {
                let key = State::key(&res, ns.as_deref().unwrap_or(""), &name);
                let status_only = sub.is_some();
                match req.method {
                    "GET" => st
                        .get(&key)
                        .map(|o| present(o, &res))
                        .ok_or_else(|| ApiError::not_found(&res.plural, &name)),
                    "PUT" => replace(st, req, &res, &key, status_only),
                    "PATCH" => patch(st, req, &res, &key, status_only),
                    "DELETE" => st
                        .delete(&key, &DeleteOptions::from_body(req.body))
                        .map(|o| present(&o, &res)),
                    _ => Err(ApiError::new(
                        405,
                        "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                    )),
                }
                .map(|v| json_response(200, &v))
            }
        }
    };
    result.unwrap_or_else(|e| error_response(&e))
}

fn flag(req: &Req<'_>, name: &str) -> bool {
    req.query.get(name).is_some_and(|v| v == "true" || v == "1")
}

fn selector(req: &Req<'_>) -> Result<Selector, ApiError> {
    Selector::parse(
        req.query.get("labelSelector").map(String::as_str),
        req.query.get("fieldSelector").map(String::as_str),
    )
    .map_err(|e| ApiError::bad_request(e.0))
}

fn body_json(req: &Req<'_>) -> Result<Value, ApiError> {
    serde_json::from_slice(req.body)
        .or_else(|_| serde_yaml::from_slice(req.body))
        .map_err(|e| {
            ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
        })
}

fn matching<'a>(
    st: &'a State,
    res: &Resource,
    ns: Option<&str>,
    sel: &Selector,
) -> Vec<(&'a ObjKey, &'a Value)> {
    st.objects
        .iter()
        .filter(|(k, o)| k.res == res.key() && ns.is_none_or(|ns| ns == k.ns) && sel.matches(o))
        .collect()
}

fn list(st: &State, req: &Req<'_>, res: &Resource, ns: Option<&str>) -> Result<Value, ApiError> {
    let sel = selector(req)?;
    let all = matching(st, res, ns, &sel);
    // The continue token is the offset of the next page: good enough for paging a quiet store.
    let start: usize = req
        .query
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = req
        .query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|(_, o)| present(o, res))
        .collect();
    let mut metadata = json!({"resourceVersion": st.rv.to_string()});
    if start.saturating_add(page.len()) < all.len() {
        metadata["continue"] = json!((start + page.len()).to_string());
        metadata["remainingItemCount"] = json!(all.len() - start - page.len());
    }
    Ok(
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": metadata, "items": page}),
    )
}

fn watch_collection(
    st: &mut State,
    req: &Req<'_>,
    res: Resource,
    ns: Option<String>,
    bookmark_interval: Duration,
) -> Result<BoxBody, ApiError> {
    let timeout = req
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1800);
    let w = WatchRequest {
        res,
        ns,
        selector: selector(req)?,
        resource_version: req.query.get("resourceVersion").cloned(),
        send_initial_events: flag(req, "sendInitialEvents"),
        bookmarks: flag(req, "allowWatchBookmarks"),
        timeout: Duration::from_secs(timeout),
    };
    Ok(watch::start(st, w, bookmark_interval))
}

fn create(
    st: &mut State,
    req: &Req<'_>,
    res: &Resource,
    ns: Option<&str>,
) -> Result<Value, ApiError> {
    let mut obj = body_json(req)?;
    let ns = ns
        .map(String::from)
        .or_else(|| meta_str(&obj, "namespace").map(String::from))
        .unwrap_or_else(|| "default".into());
    if res.status_subresource
        && let Some(m) = obj.as_object_mut()
    {
        // With a status subresource, status is not settable on create.
        m.remove("status");
    }
    if flag(req, "dryRun") || req.query.get("dryRun").is_some_and(|d| d == "All") {
        meta_mut(&mut obj).insert("namespace".into(), json!(ns));
        return Ok(obj);
    }
    let created = st.create(res, &ns, obj)?;
    let name = meta_str(&created, "name").unwrap_or("");
    let key = State::key(res, &ns, name);
    let managers = st.managers.entry(key).or_default();
    ssa::record_update(None, &created, managers, &req.update_manager());
    Ok(present(&created, res))
}

fn check_rv(
    live: &Value,
    wanted: Option<&str>,
    res: &Resource,
    name: &str,
) -> Result<(), ApiError> {
    match wanted {
        Some(rv) if !rv.is_empty() && Some(rv) != meta_str(live, "resourceVersion") => {
            Err(ApiError::conflict(&res.plural, name))
        }
        _ => Ok(()),
    }
}

/// Main writes keep the live status; status writes keep everything but the status.
fn merge_subresource(live: &Value, mut written: Value, res: &Resource, status_only: bool) -> Value {
    if status_only {
        let mut out = live.clone();
        match written.get("status") {
            Some(s) => out["status"] = s.clone(),
            None => {
                if let Some(m) = out.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        out
    } else if res.status_subresource {
        if let Some(m) = written.as_object_mut() {
            match live.get("status") {
                Some(s) => m.insert("status".into(), s.clone()),
                None => m.remove("status"),
            };
        }
        written
    } else {
        written
    }
}

fn replace(
    st: &mut State,
    req: &Req<'_>,
    res: &Resource,
    key: &ObjKey,
    status_only: bool,
) -> Result<Value, ApiError> {
    let body = body_json(req)?;
    let live = st
        .get(key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&res.plural, &key.name))?;
    if meta_str(&body, "name").is_some_and(|n| n != key.name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    check_rv(&live, meta_str(&body, "resourceVersion"), res, &key.name)?;
    let new = merge_subresource(&live, body, res, status_only);
    update_owned(st, req, key, new).map(|o| present(&o, res))
}

fn patch(
    st: &mut State,
    req: &Req<'_>,
    res: &Resource,
    key: &ObjKey,
    status_only: bool,
) -> Result<Value, ApiError> {
    let kind = PatchKind::from_content_type(req.content_type)?;
    let live = st.get(key).cloned();
    if let Some(live) = &live {
        check_rv(
            live,
            rv_precondition(kind, req.body).as_deref(),
            res,
            &key.name,
        )?;
    }
    if kind == PatchKind::Apply {
        return server_side_apply(st, req, res, key, live, status_only);
    }
    let live = live.ok_or_else(|| ApiError::not_found(&res.plural, &key.name))?;
    let patched = apply_patch(kind, res.is_crd, &live, req.body)?;
    let new = merge_subresource(&live, patched, res, status_only);
    update_owned(st, req, key, new).map(|o| present(&o, res))
}

fn server_side_apply(
    st: &mut State,
    req: &Req<'_>,
    res: &Resource,
    key: &ObjKey,
    live: Option<Value>,
    status_only: bool,
) -> Result<Value, ApiError> {
    let manager = req
        .query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::new(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"))?
        .clone();
    let mut applied = body_json(req)?;
    if let Some(m) = applied.as_object_mut() {
        if status_only {
            m.retain(|k, _| k == "status" || k == "apiVersion" || k == "kind");
        } else if res.status_subresource {
            m.remove("status");
        }
    }
    let Some(live) = live else {
        if status_only {
            return Err(ApiError::not_found(&res.plural, &key.name));
        }
        let mut managers = ssa::Managers::new();
        let mut obj = ssa::apply(None, &applied, &mut managers, &manager, true)?;
        meta_mut(&mut obj).insert("name".into(), json!(key.name));
        let created = st.create(res, &key.ns, obj)?;
        st.managers.insert(key.clone(), managers);
        return Ok(present(&created, res));
    };
    let mut managers = st.managers.get(key).cloned().unwrap_or_default();
    let merged = ssa::apply(
        Some(&live),
        &applied,
        &mut managers,
        &manager,
        flag(req, "force"),
    )?;
    let new = merge_subresource(&live, merged, res, status_only);
    let out = st.update(key, new)?;
    if st.objects.contains_key(key) {
        st.managers.insert(key.clone(), managers);
    }
    Ok(present(&out, res))
}

fn delete_collection(
    st: &mut State,
    req: &Req<'_>,
    res: &Resource,
    ns: Option<&str>,
) -> Result<Value, ApiError> {
    let sel = selector(req)?;
    let opts = DeleteOptions::from_body(req.body);
    let keys: Vec<ObjKey> = matching(st, res, ns, &sel)
        .into_iter()
        .map(|(k, _)| k.clone())
        .collect();
    let mut items = Vec::new();
    for key in keys {
        if st.objects.contains_key(&key) {
            items.push(present(&st.delete(&key, &opts)?, res));
        }
    }
    Ok(
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": {"resourceVersion": st.rv.to_string()}, "items": items}),
    )
}

/// Decodes `a=b&c=d%20e` (form encoding: `+` is a space).
pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = parse_query("labelSelector=tier+in+%28web%2Cdb%29&watch=true&bad=%zz&empty");
        assert_eq!(q["labelSelector"], "tier in (web,db)");
        assert_eq!(q["watch"], "true");
        assert_eq!(q["bad"], "%zz");
        assert_eq!(q["empty"], "");
    }

    #[test]
    fn namespace_status_is_not_a_namespaced_collection() {
        let (tx, _) = tokio::sync::broadcast::channel(4);
        let st = State::new(tx);
        match resolve(&st, "/api/v1/namespaces/team/status") {
            Ok(Target::Object { res, ns, name, sub }) => {
                assert_eq!(
                    (res.plural.as_str(), ns, name.as_str(), sub.as_deref()),
                    ("namespaces", None, "team", Some("status"))
                );
            }
            _ => panic!("namespace status should resolve to the namespace object"),
        }
        match resolve(&st, "/api/v1/namespaces/team/configmaps/c") {
            Ok(Target::Object { res, ns, name, sub }) => {
                assert_eq!(
                    (res.plural.as_str(), ns.as_deref(), name.as_str(), sub),
                    ("configmaps", Some("team"), "c", None)
                );
            }
            _ => panic!("namespaced object"),
        }
        assert!(
            resolve(&st, "/api/v1/namespaces/team/configmaps/c/status").is_err(),
            "no status subresource"
        );
        assert!(
            resolve(&st, "/apis/argoproj.io/v1alpha1/applications").is_err(),
            "CRD not installed"
        );
    }
}
