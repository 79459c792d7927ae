//! Which resources the fake serves: built-ins plus kinds installed by CRD objects.

use serde_json::Value;

/// Identifies a stored collection independently of the version it is read through: a CRD serving
/// several versions keeps one set of objects (the fake does no conversion).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResKey {
    pub group: String,
    pub plural: String,
}

/// One served (group, version, plural).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: String,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// CRD-backed: strategic merge patch is refused (415), as by a real apiserver.
    pub is_crd: bool,
    /// From the CRD's `spec.names.shortNames` (discovery, so `kubectl get gitrepo` works).
    pub short_names: Vec<String>,
}

impl Resource {
    pub fn key(&self) -> ResKey {
        ResKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Registry {
    resources: Vec<Resource>,
}

impl Registry {
    pub fn with_builtins() -> Self {
        let mut r = Registry::default();
        let builtins: &[(&str, &str, &str, &str, bool, bool)] = &[
            ("", "v1", "namespaces", "Namespace", false, true),
            ("", "v1", "secrets", "Secret", true, false),
            ("", "v1", "configmaps", "ConfigMap", true, false),
            ("", "v1", "events", "Event", true, false),
            ("", "v1", "pods", "Pod", true, true),
            ("", "v1", "services", "Service", true, true),
            ("", "v1", "serviceaccounts", "ServiceAccount", true, false),
            ("events.k8s.io", "v1", "events", "Event", true, false),
            ("coordination.k8s.io", "v1", "leases", "Lease", true, false),
            ("apps", "v1", "deployments", "Deployment", true, true),
            ("apps", "v1", "statefulsets", "StatefulSet", true, true),
            ("apps", "v1", "daemonsets", "DaemonSet", true, true),
            ("apps", "v1", "replicasets", "ReplicaSet", true, true),
            ("batch", "v1", "jobs", "Job", true, true),
            ("batch", "v1", "cronjobs", "CronJob", true, true),
            (
                "apiextensions.k8s.io",
                "v1",
                "customresourcedefinitions",
                "CustomResourceDefinition",
                false,
                true,
            ),
        ];
        for &(group, version, plural, kind, namespaced, status) in builtins {
            r.resources.push(Resource {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                kind: kind.into(),
                namespaced,
                status_subresource: status,
                is_crd: false,
                short_names: Vec::new(),
            });
        }
        r
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Any served version of the collection (used for objects seeded by `apiVersion` + `kind`).
    pub fn find_kind(&self, group: &str, version: &str, kind: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
    }

    pub fn all(&self) -> &[Resource] {
        &self.resources
    }

    /// Registers every served version of a CRD, replacing what an earlier version of the same CRD
    /// registered (so an update that stops serving a version takes it away).
    pub fn install_crd(&mut self, crd: &Value) -> Result<ResKey, String> {
        let spec = crd.get("spec").ok_or("CRD has no spec")?;
        let group = str_at(spec, &["group"]).ok_or("CRD has no spec.group")?;
        let plural = str_at(spec, &["names", "plural"]).ok_or("CRD has no spec.names.plural")?;
        let kind = str_at(spec, &["names", "kind"]).ok_or("CRD has no spec.names.kind")?;
        let namespaced = str_at(spec, &["scope"]).unwrap_or("Namespaced") == "Namespaced";
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or("CRD has no spec.versions")?;
        let key = ResKey {
            group: group.to_string(),
            plural: plural.to_string(),
        };
        let short_names: Vec<String> = spec
            .pointer("/names/shortNames")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        self.remove(&key);
        for v in versions {
            if v.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let version = str_at(v, &["name"]).ok_or("CRD version has no name")?;
            self.resources.push(Resource {
                group: group.to_string(),
                version: version.to_string(),
                plural: plural.to_string(),
                kind: kind.to_string(),
                namespaced,
                status_subresource: v.pointer("/subresources/status").is_some(),
                is_crd: true,
                short_names: short_names.clone(),
            });
        }
        Ok(key)
    }

    pub fn remove(&mut self, key: &ResKey) {
        self.resources.retain(|r| r.key() != *key);
    }
}

/// The collection a CRD object defines, read from the object itself (used when it is deleted).
pub fn crd_key(crd: &Value) -> Option<ResKey> {
    let spec = crd.get("spec")?;
    Some(ResKey {
        group: str_at(spec, &["group"])?.to_string(),
        plural: str_at(spec, &["names", "plural"])?.to_string(),
    })
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str()
}

/// Splits `apiVersion` into (group, version); the core group is "".
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
