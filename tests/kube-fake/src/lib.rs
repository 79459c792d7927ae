//! An in-process fake Kubernetes API server for the operator's scenario tests.
//!
//! `FakeApiServer::new().client()` gives a `kube::Client` whose requests are served in memory
//! (no socket): CRUD with resourceVersions and 409s, label/field selectors, watches with history
//! replay, bookmarks and in-stream 410, merge/JSON/apply patches, `/status` subresources,
//! finalizers, ownerReference garbage collection, CRDs that install kinds, a request log and
//! fault injection. `serve_http()` exposes the same server on 127.0.0.1 for real processes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube::api::{Api, ListParams};
//! let fake = sluice_kube_fake::FakeApiServer::new();
//! fake.load_crds_from_dir(&sluice_kube_fake::upstream_crds_dir()?)?;
//! fake.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n")?;
//! let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
//! assert_eq!(cms.list(&ListParams::default()).await?.items.len(), 1);
//! fake.fail_next(Some("PATCH"), "/status", 409, "Conflict", 1); // next status write conflicts
//! assert!(fake.writes().is_empty()); // only the GET so far
//! # Ok(()) }
//! ```
//!
//! Known gaps: no admission or schema validation, no RBAC, no defaulting, no conversion between
//! CRD versions, strategic merge is plain merge, SSA ownership is per leaf field (lists atomic)
//! and kept out of the objects (no `managedFields`), seeded objects (`insert`, `apply_yaml`)
//! have no field owners, metadata-only requests get full objects, the watch history keeps the
//! last 10,000 changes (older resumes get a 410).

mod crds;
mod discovery;
mod error;
mod faults;
mod log;
mod patch;
mod registry;
mod routes;
mod selector;
mod ssa;
mod store;
mod watch;
mod wire;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::broadcast;

pub use crate::crds::{CrdError, upstream_crds_dir};
pub use crate::error::ApiError;
pub use crate::faults::{Fault, Gate};
pub use crate::log::{Access, RequestRecord};

/// The header by which `client_as` clients identify themselves in the request log.
const CLIENT_HEADER: &str = "x-sluice-fake-client";
use crate::store::{Broadcast, State};
pub use crate::wire::ServerHandle;

/// The fake server. Cheap to clone (shared state); give each test its own.
#[derive(Clone)]
pub struct FakeApiServer {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    bookmark_interval: Mutex<Duration>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("FakeApiServer")
            .field("resource_version", &st.rv)
            .field("objects", &st.objects.len())
            .finish()
    }
}

impl Default for FakeApiServer {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeApiServer {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        FakeApiServer {
            inner: Arc::new(Inner {
                state: Mutex::new(State::new(tx)),
                bookmark_interval: Mutex::new(Duration::from_secs(1)),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How often open watches with `allowWatchBookmarks` get a BOOKMARK (default 1 s).
    pub fn set_bookmark_interval(&self, every: Duration) {
        *self
            .inner
            .bookmark_interval
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = every;
    }

    /// A client served in process, default namespace "default".
    pub fn client(&self) -> kube::Client {
        self.client_as(None)
    }

    /// A client whose requests the log attributes to `identity` ([`RequestRecord::client`]),
    /// e.g. to tell the operator's requests from a test's own.
    pub fn client_as(&self, identity: Option<&str>) -> kube::Client {
        let me = self.clone();
        let identity: Option<::http::HeaderValue> = identity.map(|i| {
            i.parse()
                .expect("a client identity is a valid header value")
        });
        let svc = tower::service_fn(move |req: ::http::Request<kube::client::Body>| {
            let me = me.clone();
            let identity = identity.clone();
            async move {
                let (mut parts, body) = req.into_parts();
                if let Some(identity) = identity {
                    parts.headers.insert(CLIENT_HEADER, identity);
                }
                let bytes = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                Ok::<_, std::convert::Infallible>(me.handle_parts(parts, bytes).await)
            }
        });
        kube::Client::new(svc, "default")
    }

    /// Serves one request (used by both the in-process client and the loopback server).
    pub async fn handle_parts(
        &self,
        parts: ::http::request::Parts,
        body: Bytes,
    ) -> ::http::Response<wire::BoxBody> {
        let method = parts.method.as_str().to_string();
        let path = parts.uri.path().to_string();
        let raw_query = parts.uri.query().unwrap_or("").to_string();
        let content_type = parts
            .headers
            .get(::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let interval = *self
            .inner
            .bookmark_interval
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let path_and_query = format!("{path}?{raw_query}");
        let fault = faults::take(&mut self.lock().faults, &method, &path_and_query);
        if let Some(f) = &fault {
            faults::wait(f).await;
        }
        let mut st = self.lock();
        let idx = st.log.len();
        st.log.push(RequestRecord {
            method: method.clone(),
            path: path.clone(),
            query: raw_query.clone(),
            content_type: content_type.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            status: 0,
            client: parts
                .headers
                .get(CLIENT_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(String::from),
        });
        let resp = match fault {
            Some(f) if f.status != 0 => wire::error_response(&ApiError::new(
                f.status,
                &f.reason,
                "injected by the fake API server",
            )),
            _ => {
                let req = routes::Req {
                    method: &method,
                    path: &path,
                    query: routes::parse_query(&raw_query),
                    content_type: content_type.as_deref(),
                    body: &body,
                    user_agent: parts
                        .headers
                        .get(::http::header::USER_AGENT)
                        .and_then(|v| v.to_str().ok()),
                };
                routes::dispatch(&mut st, &req, interval)
            }
        };
        st.log[idx].status = resp.status().as_u16();
        resp
    }

    /// Serves over HTTP/1 on 127.0.0.1 (random port) until the handle is dropped.
    pub async fn serve_http(&self) -> std::io::Result<ServerHandle> {
        wire::serve(self.clone()).await
    }

    /// Writes a kubeconfig for `handle` (no credentials; namespace "default").
    pub fn write_kubeconfig(&self, handle: &ServerHandle, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, wire::kubeconfig_yaml(&handle.url(), "default"))
    }

    // ----- seeding and inspection -----

    /// Creates an object from its `apiVersion`/`kind` (status kept, unlike a client create).
    pub fn insert(&self, obj: Value) -> Result<Value, ApiError> {
        let mut st = self.lock();
        let res = crds::resource_for(&st, &obj)?;
        let ns = store::meta_str(&obj, "namespace")
            .unwrap_or("default")
            .to_string();
        st.create(&res, &ns, obj)
    }

    /// Creates every document of a multi-document YAML string; returns the stored objects.
    pub fn apply_yaml(&self, yaml: &str) -> Result<Vec<Value>, CrdError> {
        crds::documents(yaml)?
            .into_iter()
            .map(|d| self.insert(d).map_err(CrdError::Api))
            .collect()
    }

    /// Installs the CRDs in a multi-document YAML string (other kinds are refused).
    pub fn install_crd_yaml(&self, yaml: &str) -> Result<Vec<String>, CrdError> {
        let mut names = Vec::new();
        for doc in crds::documents(yaml)? {
            if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
                return Err(CrdError::NotACrd(
                    doc.get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                ));
            }
            let stored = self.insert(doc).map_err(CrdError::Api)?;
            names.push(store::meta_str(&stored, "name").unwrap_or("").to_string());
        }
        Ok(names)
    }

    /// Installs every CRD in the `*.yaml`/`*.yml` files of a directory; returns the CRD names.
    pub fn load_crds_from_dir(&self, dir: &Path) -> Result<Vec<String>, CrdError> {
        let mut names = Vec::new();
        for file in crds::yaml_files(dir)? {
            let text = std::fs::read_to_string(&file).map_err(|e| CrdError::Io(file.clone(), e))?;
            names.extend(self.install_crd_yaml(&text)?);
        }
        Ok(names)
    }

    /// Deletes a CRD by name (its kind, objects and watches go away).
    pub fn delete_crd(&self, name: &str) -> Result<(), ApiError> {
        let mut st = self.lock();
        let res = st
            .registry
            .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .cloned()
            .ok_or_else(|| ApiError::not_found("customresourcedefinitions", name))?;
        let key = State::key(&res, "", name);
        st.delete(&key, &store::DeleteOptions::default())
            .map(|_| ())
    }

    /// The stored object (`ns` is ignored for cluster-scoped kinds).
    pub fn get(&self, api_version: &str, plural: &str, ns: &str, name: &str) -> Option<Value> {
        let st = self.lock();
        let (g, v) = registry::split_api_version(api_version);
        let res = st.registry.find(g, v, plural)?;
        st.get(&State::key(res, ns, name))
            .map(|o| watch::present(o, res))
    }

    /// The stored objects of a kind, in one namespace or (None) all.
    pub fn list(&self, api_version: &str, plural: &str, ns: Option<&str>) -> Vec<Value> {
        let st = self.lock();
        let (g, v) = registry::split_api_version(api_version);
        let Some(res) = st.registry.find(g, v, plural) else {
            return Vec::new();
        };
        st.objects
            .iter()
            .filter(|(k, _)| k.res == res.key() && ns.is_none_or(|ns| ns == k.ns))
            .map(|(_, o)| watch::present(o, res))
            .collect()
    }

    /// Whether (group, version, plural) is currently served.
    pub fn serves(&self, api_version: &str, plural: &str) -> bool {
        let (g, v) = registry::split_api_version(api_version);
        self.lock().registry.find(g, v, plural).is_some()
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    // ----- request log -----

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().log.clone()
    }

    /// Non-GET requests, in order.
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.lock()
            .log
            .iter()
            .filter(|r| r.is_write())
            .cloned()
            .collect()
    }

    pub fn clear_log(&self) {
        let mut st = self.lock();
        let cleared = std::mem::take(&mut st.log);
        st.cleared.extend(cleared);
    }

    /// Every request since the server started, including those `clear_log` took out of
    /// [`FakeApiServer::requests`] (e.g. to prove RBAC over a whole scenario).
    pub fn all_requests(&self) -> Vec<RequestRecord> {
        let st = self.lock();
        st.cleared.iter().chain(st.log.iter()).cloned().collect()
    }

    // ----- fault injection and watch control -----

    /// Answers the next `times` requests with `method` (None: any) whose `path?query` contains
    /// `path_contains` with an error status instead of serving them. E.g. `"/widgets?"` hits
    /// list and watch but not single objects, `"watch=true"` only watches, `"/status"` only
    /// status writes. Faults are checked in the order they were added.
    pub fn fail_next(
        &self,
        method: Option<&str>,
        path_contains: &str,
        status: u16,
        reason: &str,
        times: usize,
    ) {
        self.lock().faults.push(Fault {
            method: method.map(String::from),
            path_contains: path_contains.to_string(),
            status,
            reason: reason.to_string(),
            delay: Duration::ZERO,
            gate: None,
            remaining: times,
        });
    }

    /// Serves the next `times` matching requests (as for `fail_next`) only after `delay`,
    /// letting other requests go first: for slow-apiserver and ordering scenarios.
    pub fn delay_next(
        &self,
        method: Option<&str>,
        path_contains: &str,
        delay: Duration,
        times: usize,
    ) {
        self.lock().faults.push(Fault {
            method: method.map(String::from),
            path_contains: path_contains.to_string(),
            status: 0,
            reason: String::new(),
            delay,
            gate: None,
            remaining: times,
        });
    }

    /// Holds the next `times` matching requests (as for `fail_next`) until the returned gate
    /// is released (or dropped), then serves them: deterministic "slow apiserver" ordering.
    pub fn hold_next(&self, method: Option<&str>, path_contains: &str, times: usize) -> Gate {
        let (tx, rx) = tokio::sync::watch::channel(false);
        self.lock().faults.push(Fault {
            method: method.map(String::from),
            path_contains: path_contains.to_string(),
            status: 0,
            reason: String::new(),
            delay: Duration::ZERO,
            gate: Some(rx),
            remaining: times,
        });
        Gate(tx)
    }

    /// How many injected faults and delays are still waiting for a request.
    pub fn pending_faults(&self) -> usize {
        self.lock().faults.iter().map(|f| f.remaining).sum()
    }

    /// Forgets the change history: watches resuming from an older resourceVersion get a 410.
    pub fn compact(&self) {
        self.lock().compact();
    }

    /// Ends every open watch stream (like an apiserver restart); clients re-watch.
    pub fn drop_watches(&self) {
        let st = self.lock();
        let _ = st.tx.send(Broadcast::DropAll);
    }
}
