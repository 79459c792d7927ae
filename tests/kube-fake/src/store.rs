//! Object storage, resourceVersions, server-owned metadata, finalizers, garbage collection and
//! the change history that watches replay.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::error::ApiError;
use crate::faults::Fault;
use crate::log::RequestRecord;
use crate::registry::{Registry, ResKey, Resource, crd_key};
use crate::ssa::Managers;

/// How many changes are kept for watch resumption; older resumes get an in-stream 410.
const HISTORY_CAP: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    pub res: ResKey,
    /// "" for cluster-scoped objects.
    pub ns: String,
    pub name: String,
}

/// What a DELETE request's body (`DeleteOptions`) asks for.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// `propagationPolicy: Orphan`: dependents keep existing, minus the owner reference.
    pub orphan: bool,
    pub resource_version: Option<String>,
    pub uid: Option<String>,
}

impl DeleteOptions {
    pub fn from_body(body: &[u8]) -> Self {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let pre = |f: &str| {
            v.pointer(&format!("/preconditions/{f}"))
                .and_then(Value::as_str)
                .map(String::from)
        };
        DeleteOptions {
            orphan: v.get("propagationPolicy").and_then(Value::as_str) == Some("Orphan"),
            resource_version: pre("resourceVersion"),
            uid: pre("uid"),
        }
    }
}

fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    meta(obj)
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

/// One committed write: `old` None means created, `new` None means deleted.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub res: ResKey,
    pub ns: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Clone, Debug)]
pub enum Broadcast {
    Change(Arc<Change>),
    /// A CRD was deleted: watches on its kind end.
    ResourceGone(ResKey),
    DropAll,
}

pub struct State {
    pub registry: Registry,
    pub objects: BTreeMap<ObjKey, Value>,
    pub rv: u64,
    pub history: VecDeque<Arc<Change>>,
    /// Watches asking for changes after an RV below this one were compacted away.
    pub compacted_rv: u64,
    pub managers: BTreeMap<ObjKey, Managers>,
    pub log: Vec<RequestRecord>,
    /// Requests dropped from `log` by `clear_log`, kept for `all_requests`.
    pub cleared: Vec<RequestRecord>,
    pub faults: Vec<Fault>,
    pub tx: broadcast::Sender<Broadcast>,
    uid_counter: u64,
}

const CRDS: (&str, &str) = ("apiextensions.k8s.io", "customresourcedefinitions");

fn is_crd_res(res: &ResKey) -> bool {
    res.group == CRDS.0 && res.plural == CRDS.1
}

pub fn now() -> String {
    let t =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

pub fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("just made an object");
    let m = map.entry("metadata").or_insert_with(|| json!({}));
    if !m.is_object() {
        *m = json!({});
    }
    m.as_object_mut().expect("just made an object")
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj).and_then(|m| m.get(field)).and_then(Value::as_str)
}

fn finalizers_empty(obj: &Value) -> bool {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
}

/// Everything except metadata and status: what `generation` tracks.
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

impl State {
    pub fn new(tx: broadcast::Sender<Broadcast>) -> Self {
        State {
            registry: Registry::with_builtins(),
            objects: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            compacted_rv: 0,
            managers: BTreeMap::new(),
            log: Vec::new(),
            cleared: Vec::new(),
            faults: Vec::new(),
            tx,
            uid_counter: 0,
        }
    }

    pub fn key(res: &Resource, ns: &str, name: &str) -> ObjKey {
        ObjKey {
            res: res.key(),
            ns: if res.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }

    /// Records a change, stamps its resourceVersion and tells the open watches. Runs under the
    /// state lock so a watch that subscribes under the same lock misses nothing.
    fn commit(
        &mut self,
        key: &ObjKey,
        old: Option<Value>,
        mut new: Option<Value>,
    ) -> Option<Value> {
        self.rv += 1;
        let rv = self.rv;
        match &mut new {
            Some(obj) => {
                meta_mut(obj).insert("resourceVersion".into(), json!(rv.to_string()));
                self.objects.insert(key.clone(), obj.clone());
            }
            None => {
                self.objects.remove(key);
                self.managers.remove(key);
            }
        }
        // A deleted object's last state carries the deletion's resourceVersion, as in a cluster.
        let old = match (old, &new) {
            (Some(mut o), None) => {
                meta_mut(&mut o).insert("resourceVersion".into(), json!(rv.to_string()));
                Some(o)
            }
            (o, _) => o,
        };
        let change = Arc::new(Change {
            rv,
            res: key.res.clone(),
            ns: key.ns.clone(),
            old,
            new: new.clone(),
        });
        self.history.push_back(change.clone());
        while self.history.len() > HISTORY_CAP {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_rv = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(Broadcast::Change(change.clone()));
        new.or_else(|| change.old.clone())
    }

    pub fn get(&self, key: &ObjKey) -> Option<&Value> {
        self.objects.get(key)
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        format!("6b1e5a3c-0000-4000-8000-{:012x}", self.uid_counter)
    }

    /// Creates an object; `generateName` is honoured, an existing name is 409 AlreadyExists.
    pub fn create(&mut self, res: &Resource, ns: &str, mut obj: Value) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request was not a JSON object",
            ));
        }
        let generate = meta_str(&obj, "generateName").map(String::from);
        let name = match (meta_str(&obj, "name").filter(|n| !n.is_empty()), generate) {
            (Some(n), _) => n.to_string(),
            (None, Some(prefix)) => format!("{prefix}{:05x}", self.uid_counter + 1),
            (None, None) => {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "metadata.name: Required value: name or generateName is required",
                ));
            }
        };
        let key = Self::key(res, ns, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", res.plural),
            ));
        }
        let uid = self.next_uid();
        let m = meta_mut(&mut obj);
        m.insert("name".into(), json!(name));
        if res.namespaced {
            m.insert("namespace".into(), json!(ns));
        } else {
            m.remove("namespace");
        }
        m.insert("uid".into(), json!(uid));
        m.insert("creationTimestamp".into(), json!(now()));
        m.insert("generation".into(), json!(1));
        m.remove("deletionTimestamp");
        m.remove("resourceVersion");
        obj["apiVersion"] = json!(res.api_version());
        obj["kind"] = json!(res.kind);
        if is_crd_res(&key.res) {
            self.registry
                .install_crd(&obj)
                .map_err(|e| ApiError::new(422, "Invalid", e))?;
        }
        Ok(self
            .commit(&key, None, Some(obj))
            .expect("create yields the object"))
    }

    /// Stores `new` over the existing object, keeping server-owned metadata; finishes a pending
    /// deletion once the finalizers are gone.
    pub fn update(&mut self, key: &ObjKey, mut new: Value) -> Result<Value, ApiError> {
        let old = self
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&key.res.plural, &key.name))?;
        let old_meta = meta(&old).cloned().unwrap_or_default();
        let m = meta_mut(&mut new);
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "name",
            "namespace",
            "generation",
        ] {
            match old_meta.get(field) {
                Some(v) => m.insert(field.into(), v.clone()),
                None => m.remove(field),
            };
        }
        for field in ["apiVersion", "kind"] {
            if let Some(v) = old.get(field) {
                new[field] = v.clone();
            }
        }
        if spec_part(&old) != spec_part(&new) {
            let generation = old_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            meta_mut(&mut new).insert("generation".into(), json!(generation + 1));
        }
        let mut cmp_old = old.clone();
        meta_mut(&mut cmp_old).remove("resourceVersion");
        meta_mut(&mut new).remove("resourceVersion");
        if cmp_old == new {
            // A no-op write does not bump resourceVersion nor wake watches, as in a cluster.
            return Ok(old);
        }
        if meta(&new).is_some_and(|m| m.contains_key("deletionTimestamp")) && finalizers_empty(&new)
        {
            // The last state (finalizers emptied) is what the DELETED event carries.
            self.objects.insert(key.clone(), new.clone());
            return self.remove(key, false).map(|o| o.unwrap_or(new));
        }
        if is_crd_res(&key.res) {
            self.registry
                .install_crd(&new)
                .map_err(|e| ApiError::new(422, "Invalid", e))?;
        }
        Ok(self
            .commit(key, Some(old), Some(new))
            .expect("update yields the object"))
    }

    /// DELETE: with finalizers only marks the object; otherwise removes it and its dependents.
    pub fn delete(&mut self, key: &ObjKey, opts: &DeleteOptions) -> Result<Value, ApiError> {
        let old = self
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&key.res.plural, &key.name))?;
        let precondition_failed = |field: &str, wanted: &Option<String>| {
            wanted
                .as_deref()
                .is_some_and(|w| Some(w) != meta_str(&old, field))
        };
        if precondition_failed("resourceVersion", &opts.resource_version)
            || precondition_failed("uid", &opts.uid)
        {
            return Err(ApiError::conflict(&key.res.plural, &key.name));
        }
        if !finalizers_empty(&old) {
            if meta(&old).is_some_and(|m| m.contains_key("deletionTimestamp")) {
                return Ok(old);
            }
            let mut new = old.clone();
            meta_mut(&mut new).insert("deletionTimestamp".into(), json!(now()));
            meta_mut(&mut new).insert("deletionGracePeriodSeconds".into(), json!(0));
            return Ok(self
                .commit(key, Some(old), Some(new))
                .expect("update yields the object"));
        }
        Ok(self.remove(key, opts.orphan)?.unwrap_or(old))
    }

    /// Really removes an object, then its dependents (background propagation, done at once: a
    /// dependent whose only owners are gone is deleted, one with other owners loses the dangling
    /// reference; with `Orphan` every dependent just loses it), the objects of a deleted
    /// namespace, and for a CRD the whole kind.
    fn remove(&mut self, key: &ObjKey, orphan: bool) -> Result<Option<Value>, ApiError> {
        let Some(old) = self.objects.get(key).cloned() else {
            return Ok(None);
        };
        let removed = self.commit(key, Some(old.clone()), None);
        if let Some(uid) = meta_str(&old, "uid") {
            let dependents: Vec<(ObjKey, Value)> = self
                .objects
                .iter()
                .filter(|(_, o)| owner_uids(o).any(|u| u == uid))
                .map(|(k, o)| (k.clone(), o.clone()))
                .collect();
            for (dep, obj) in dependents {
                let others: Vec<Value> = meta(&obj)
                    .and_then(|m| m.get("ownerReferences"))
                    .and_then(Value::as_array)
                    .map(|refs| {
                        refs.iter()
                            .filter(|r| r.get("uid").and_then(Value::as_str) != Some(uid))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                // A dependent may already be gone through another owner in this same cascade.
                if !self.objects.contains_key(&dep) {
                    continue;
                }
                if orphan || !others.is_empty() {
                    let mut new = obj.clone();
                    meta_mut(&mut new).insert("ownerReferences".into(), Value::Array(others));
                    self.commit(&dep, Some(obj), Some(new));
                } else {
                    self.delete(&dep, &DeleteOptions::default())?;
                }
            }
        }
        if key.res.group.is_empty() && key.res.plural == "namespaces" {
            let contents: Vec<ObjKey> = self
                .objects
                .keys()
                .filter(|k| k.ns == key.name)
                .cloned()
                .collect();
            for k in contents {
                if self.objects.contains_key(&k) {
                    self.delete(&k, &DeleteOptions::default())?;
                }
            }
        }
        if is_crd_res(&key.res)
            && let Some(kind) = crd_key(&old)
        {
            let instances: Vec<ObjKey> = self
                .objects
                .keys()
                .filter(|k| k.res == kind)
                .cloned()
                .collect();
            for inst in instances {
                let o = self.objects.get(&inst).cloned();
                self.commit(&inst, o, None);
            }
            self.registry.remove(&kind);
            let _ = self.tx.send(Broadcast::ResourceGone(kind));
        }
        Ok(removed)
    }

    /// Forgets the history: every resourceVersion handed out so far becomes too old to watch
    /// from. The counter moves on so a fresh LIST returns a watchable resourceVersion.
    pub fn compact(&mut self) {
        self.history.clear();
        self.rv += 1;
        self.compacted_rv = self.rv;
    }
}
