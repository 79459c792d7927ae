//! WATCH streams: newline-delimited JSON events replayed from the history after the requested
//! resourceVersion, then live; selector transitions; BOOKMARKs; in-stream 410 for a compacted
//! resourceVersion; closing at timeoutSeconds, on `drop_watches()` or when the kind goes away.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::channel::mpsc;
use http_body_util::StreamBody;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::error::status_json;
use crate::registry::Resource;
use crate::selector::Selector;
use crate::store::{Broadcast, Change, State};
use crate::wire::{BoxBody, boxed};

#[derive(Clone, Debug)]
pub struct WatchRequest {
    pub res: Resource,
    /// None: across all namespaces (or a cluster-scoped kind).
    pub ns: Option<String>,
    pub selector: Selector,
    pub resource_version: Option<String>,
    pub send_initial_events: bool,
    pub bookmarks: bool,
    pub timeout: Duration,
}

/// Sets the apiVersion to the one the client asked through (no conversion between versions).
pub fn present(obj: &Value, res: &Resource) -> Value {
    let mut o = obj.clone();
    if o.is_object() {
        o["apiVersion"] = json!(res.api_version());
    }
    o
}

fn in_scope(req: &WatchRequest, res_ns: &str, obj: &Value) -> bool {
    req.ns.as_deref().is_none_or(|ns| ns == res_ns) && req.selector.matches(obj)
}

/// The event one change means for this watch, if any (DELETED when an object stops matching the
/// selector, ADDED when it starts to).
fn event_for(req: &WatchRequest, change: &Change) -> Option<Value> {
    if change.res != req.res.key() {
        return None;
    }
    let was = change.old.as_ref().filter(|o| in_scope(req, &change.ns, o));
    let is = change.new.as_ref().filter(|n| in_scope(req, &change.ns, n));
    let (kind, obj) = match (was, is) {
        (None, None) => return None,
        (None, Some(n)) => ("ADDED", n),
        (Some(_), Some(n)) => ("MODIFIED", n),
        (Some(o), None) => ("DELETED", change.new.as_ref().unwrap_or(o)),
    };
    Some(json!({"type": kind, "object": present(obj, &req.res)}))
}

fn bookmark(res: &Resource, rv: u64, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version(), "metadata": metadata}})
}

fn expired() -> Value {
    json!({"type": "ERROR", "object": status_json(410, "Expired", "too old resource version")})
}

fn line(v: &Value) -> Result<Frame<Bytes>, Infallible> {
    let mut bytes = serde_json::to_vec(v).expect("JSON values serialize");
    bytes.push(b'\n');
    Ok(Frame::data(Bytes::from(bytes)))
}

/// Starts a watch. Must run under the state lock: the backlog and the live subscription are
/// taken together so no change falls between them.
pub fn start(state: &mut State, req: WatchRequest, bookmark_interval: Duration) -> BoxBody {
    let mut initial = Vec::new();
    let mut finished = false;
    let requested = req
        .resource_version
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "0");
    match requested {
        None => {
            // "Any" resourceVersion: the current state as synthetic ADDED events.
            for (key, obj) in &state.objects {
                if key.res == req.res.key() && in_scope(&req, &key.ns, obj) {
                    initial.push(json!({"type": "ADDED", "object": present(obj, &req.res)}));
                }
            }
            if req.send_initial_events {
                initial.push(bookmark(&req.res, state.rv, true));
            }
        }
        Some(rv) => match rv.parse::<u64>() {
            Ok(rv) if rv < state.compacted_rv => {
                initial.push(expired());
                finished = true;
            }
            Ok(rv) => {
                initial.extend(
                    state
                        .history
                        .iter()
                        .filter(|c| c.rv > rv)
                        .filter_map(|c| event_for(&req, c)),
                );
            }
            Err(_) => {
                initial.push(json!({"type": "ERROR", "object": status_json(400, "BadRequest", "invalid resourceVersion")}));
                finished = true;
            }
        },
    }
    let mut live = state.tx.subscribe();
    let mut last_rv = state.rv;
    let (tx, rx) = mpsc::unbounded::<Result<Frame<Bytes>, Infallible>>();
    for ev in &initial {
        // The receiver is still in our hands here, so this cannot fail.
        let _ = tx.unbounded_send(line(ev));
    }
    if !finished {
        tokio::spawn(async move {
            let deadline = tokio::time::sleep(req.timeout);
            tokio::pin!(deadline);
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + bookmark_interval,
                bookmark_interval,
            );
            loop {
                let out = tokio::select! {
                    _ = &mut deadline => return,
                    _ = tick.tick(), if req.bookmarks => bookmark(&req.res, last_rv, false),
                    msg = live.recv() => match msg {
                        Ok(Broadcast::Change(c)) => {
                            last_rv = c.rv;
                            match event_for(&req, &c) {
                                Some(ev) => ev,
                                None => continue,
                            }
                        }
                        Ok(Broadcast::ResourceGone(k)) if k == req.res.key() => return,
                        Ok(Broadcast::ResourceGone(_)) => continue,
                        Ok(Broadcast::DropAll) | Err(RecvError::Closed) => return,
                        Err(RecvError::Lagged(_)) => {
                            // Missed changes: make the client re-list, as an apiserver would.
                            let _ = tx.unbounded_send(line(&expired()));
                            return;
                        }
                    },
                };
                if tx.unbounded_send(line(&out)).is_err() {
                    return; // the client hung up
                }
            }
        });
    }
    boxed(StreamBody::new(rx.map(|f| f)))
}
