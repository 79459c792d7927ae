//! Which workloads a subject deploys, from authoritative data: Argo's `status.resources[]`,
//! the Flux inventories of the source's appliers. When those are empty, the labels and
//! annotations Argo and Flux put on what they apply are the fallback (a query the caller runs).
//! Workloads in another cluster are marked remote, never guessed.

use serde_json::Value;

use crate::operator::str_at;

/// A workload kind the report lists.
const WORKLOAD_KINDS: [(&str, &str); 5] = [
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "CronJob"),
    ("batch", "Job"),
];

/// A workload object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Workload {
    /// The apiVersion of the workload kinds: `batch/v1` for Jobs and CronJobs, else `apps/v1`.
    pub fn api_version(&self) -> &'static str {
        if matches!(self.kind.as_str(), "CronJob" | "Job") {
            "batch/v1"
        } else {
            "apps/v1"
        }
    }
}

/// The workloads of a subject as far as the objects say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Correlation {
    pub workloads: Vec<Workload>,
    /// Where the workloads live when it is not this cluster (Argo destination, Flux
    /// kubeConfig): they are not looked up.
    pub remote: Option<String>,
    /// Queries to run when the authoritative lists were empty.
    pub fallback: Vec<LabelQuery>,
}

/// Workloads (in `namespace`, or anywhere) that carry these labels, or, for a query without
/// labels, whose Argo tracking-id annotation starts with the prefix, belong to the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelQuery {
    pub namespace: Option<String>,
    pub labels: Vec<(String, String)>,
    /// `argocd.argoproj.io/tracking-id` values start with this.
    pub tracking_prefix: Option<String>,
}

impl LabelQuery {
    /// `k=v,k2=v2` for a list request.
    pub fn selector(&self) -> String {
        self.labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub fn is_workload_kind(group: &str, kind: &str) -> bool {
    WORKLOAD_KINDS.contains(&(group, kind))
}

/// The workload kinds with their group, for fallback listing.
pub fn workload_kinds() -> &'static [(&'static str, &'static str)] {
    &WORKLOAD_KINDS
}

/// The API resource of a workload kind (all at `v1`; plural as the kinds are named).
pub fn workload_resource(group: &str, kind: &str) -> kube::core::ApiResource {
    kube::core::ApiResource {
        group: group.to_owned(),
        version: "v1".to_owned(),
        api_version: format!("{group}/v1"),
        kind: kind.to_owned(),
        plural: format!("{}s", kind.to_ascii_lowercase()),
    }
}

/// Argo CD: `status.resources[]`, else the instance label / tracking annotation.
pub fn application(app: &Value) -> Correlation {
    let name = str_at(app, "/metadata/name").unwrap_or_default();
    let app_namespace = str_at(app, "/metadata/namespace").unwrap_or_default();
    let destination = app.pointer("/spec/destination").unwrap_or(&Value::Null);
    let server = str_at(destination, "/server");
    let cluster_name = str_at(destination, "/name");
    let in_cluster = match (server, cluster_name) {
        (Some(server), _) => server.trim_end_matches('/') == "https://kubernetes.default.svc",
        (None, Some(name)) => name == "in-cluster",
        (None, None) => true,
    };
    if !in_cluster {
        return Correlation {
            remote: Some(server.or(cluster_name).unwrap_or_default().to_owned()),
            ..Correlation::default()
        };
    }
    let destination_ns = str_at(destination, "/namespace");
    let mut workloads: Vec<Workload> = app
        .pointer("/status/resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| {
            is_workload_kind(
                str_at(r, "/group").unwrap_or_default(),
                str_at(r, "/kind").unwrap_or_default(),
            )
        })
        .filter_map(|r| {
            Some(Workload {
                kind: str_at(r, "/kind")?.to_owned(),
                namespace: str_at(r, "/namespace")
                    .or(destination_ns)
                    .unwrap_or_default()
                    .to_owned(),
                name: str_at(r, "/name")?.to_owned(),
            })
        })
        .collect();
    workloads.sort();
    workloads.dedup();
    let mut fallback = Vec::new();
    if workloads.is_empty() && !name.is_empty() {
        let namespace = destination_ns.map(str::to_owned);
        fallback.push(LabelQuery {
            namespace: namespace.clone(),
            labels: vec![("app.kubernetes.io/instance".to_owned(), name.to_owned())],
            tracking_prefix: None,
        });
        // Argo's instance name is `<ns>_<app>` for Applications outside the control-plane
        // namespace, which we cannot know: both spellings are looked for.
        fallback.push(LabelQuery {
            namespace: namespace.clone(),
            labels: Vec::new(),
            tracking_prefix: Some(format!("{name}:")),
        });
        if !app_namespace.is_empty() {
            fallback.push(LabelQuery {
                namespace,
                labels: Vec::new(),
                tracking_prefix: Some(format!("{app_namespace}_{name}:")),
            });
        }
    }
    Correlation {
        workloads,
        remote: None,
        fallback,
    }
}

/// Does a Flux applier (Kustomization or HelmRelease) apply the source `kind/namespace/name`?
pub fn applies_source(applier: &Value, source_kind: &str, namespace: &str, name: &str) -> bool {
    let applier_ns = str_at(applier, "/metadata/namespace").unwrap_or_default();
    let refs = [
        applier.pointer("/spec/sourceRef"),
        applier.pointer("/spec/chart/spec/sourceRef"),
        applier.pointer("/spec/chartRef"),
    ];
    refs.into_iter().flatten().any(|r| {
        str_at(r, "/kind") == Some(source_kind)
            && str_at(r, "/name") == Some(name)
            && str_at(r, "/namespace").unwrap_or(applier_ns) == namespace
    })
}

/// Flux: the inventories of the appliers of a source; an applier without an inventory falls
/// back to the owner labels Flux sets on what it applies.
pub fn flux_appliers(appliers: &[(&str, &Value)]) -> Correlation {
    let mut correlation = Correlation::default();
    let mut remote = Vec::new();
    for (applier_kind, applier) in appliers {
        let name = str_at(applier, "/metadata/name").unwrap_or_default();
        let namespace = str_at(applier, "/metadata/namespace").unwrap_or_default();
        if applier
            .pointer("/spec/kubeConfig")
            .is_some_and(|v| !v.is_null())
        {
            remote.push(format!(
                "{applier_kind} {namespace}/{name} (spec.kubeConfig)"
            ));
            continue;
        }
        let entries = applier
            .pointer("/status/inventory/entries")
            .and_then(Value::as_array);
        match entries {
            Some(entries) if !entries.is_empty() => {
                correlation.workloads.extend(
                    entries
                        .iter()
                        .filter_map(|e| str_at(e, "/id"))
                        .filter_map(parse_inventory_id)
                        .filter(|(group, kind, _)| is_workload_kind(group, kind))
                        .map(|(_, _, workload)| workload),
                );
            }
            _ => {
                let prefix = if *applier_kind == "HelmRelease" {
                    "helm.toolkit.fluxcd.io"
                } else {
                    "kustomize.toolkit.fluxcd.io"
                };
                correlation.fallback.push(LabelQuery {
                    namespace: None,
                    labels: vec![
                        (format!("{prefix}/name"), name.to_owned()),
                        (format!("{prefix}/namespace"), namespace.to_owned()),
                    ],
                    tracking_prefix: None,
                });
            }
        }
    }
    correlation.workloads.sort();
    correlation.workloads.dedup();
    if !remote.is_empty() {
        correlation.remote = Some(remote.join(", "));
    }
    correlation
}

/// `<namespace>_<name>_<group>_<kind>` (cli-utils `ObjMetadata`): namespace up to the first
/// `_`, kind after the last, group before that; the rest is the name with `__` meaning `:`.
pub fn parse_inventory_id(id: &str) -> Option<(String, String, Workload)> {
    let (namespace, rest) = id.split_once('_')?;
    let (rest, kind) = rest.rsplit_once('_')?;
    let (name, group) = rest.rsplit_once('_')?;
    if name.is_empty() || kind.is_empty() {
        return None;
    }
    Some((
        group.to_owned(),
        kind.to_owned(),
        Workload {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.replace("__", ":"),
        },
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn w(kind: &str, namespace: &str, name: &str) -> Workload {
        Workload {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    #[test]
    fn argo_status_resources_give_the_workloads() {
        let app = json!({
            "metadata": {"name": "shop", "namespace": "argocd"},
            "spec": {"destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"}},
            "status": {"resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
                {"group": "", "version": "v1", "kind": "Service", "namespace": "shop", "name": "web"},
                {"group": "batch", "version": "v1", "kind": "CronJob", "name": "report"},
                {"group": "apps", "kind": "Deployment", "namespace": "shop", "name": "web"}
            ]}
        });
        let c = application(&app);
        assert_eq!(
            c.workloads,
            vec![
                w("CronJob", "shop", "report"),
                w("Deployment", "shop", "web")
            ]
        );
        assert!(c.fallback.is_empty());
        assert_eq!(c.remote, None);
    }

    #[test]
    fn argo_without_resources_falls_back_to_tracking_and_remote_is_not_guessed() {
        let app = json!({
            "metadata": {"name": "shop", "namespace": "team"},
            "spec": {"destination": {"name": "in-cluster", "namespace": "shop"}}
        });
        let c = application(&app);
        assert!(c.workloads.is_empty());
        assert_eq!(c.fallback[0].selector(), "app.kubernetes.io/instance=shop");
        assert_eq!(c.fallback[1].tracking_prefix.as_deref(), Some("shop:"));
        assert_eq!(c.fallback[2].tracking_prefix.as_deref(), Some("team_shop:"));
        assert_eq!(c.fallback[2].namespace.as_deref(), Some("shop"));
        let remote = json!({
            "metadata": {"name": "shop"},
            "spec": {"destination": {"server": "https://prod.example:6443"}},
            "status": {"resources": [{"group": "apps", "kind": "Deployment", "namespace": "a", "name": "b"}]}
        });
        let c = application(&remote);
        assert_eq!(c.remote.as_deref(), Some("https://prod.example:6443"));
        assert!(c.workloads.is_empty() && c.fallback.is_empty());
    }

    #[test]
    fn inventory_ids_parse_like_cli_utils() {
        assert_eq!(
            parse_inventory_id("default_podinfo_apps_Deployment"),
            Some((
                "apps".into(),
                "Deployment".into(),
                w("Deployment", "default", "podinfo")
            ))
        );
        assert_eq!(
            parse_inventory_id("default_podinfo__Service").map(|(g, k, _)| (g, k)),
            Some((String::new(), "Service".into()))
        );
        assert_eq!(
            parse_inventory_id("_system__admin_rbac.authorization.k8s.io_ClusterRole")
                .map(|(_, _, w)| w.name),
            Some("system:admin".into())
        );
        assert_eq!(parse_inventory_id("garbage"), None);
    }

    #[test]
    fn flux_appliers_of_a_source_give_inventory_workloads_or_label_queries() {
        let ks = json!({
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "repo"}},
            "status": {"inventory": {"entries": [
                {"id": "prod_web_apps_Deployment", "v": "v1"},
                {"id": "prod_web__Service", "v": "v1"},
                {"id": "prod_db_apps_StatefulSet", "v": "v1"}
            ]}}
        });
        let hr = json!({
            "metadata": {"name": "redis", "namespace": "data"},
            "spec": {"chart": {"spec": {"chart": "./charts/redis", "sourceRef": {"kind": "GitRepository", "name": "repo", "namespace": "flux-system"}}}}
        });
        let remote = json!({
            "metadata": {"name": "edge", "namespace": "flux-system"},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "repo"}, "kubeConfig": {"secretRef": {"name": "edge"}}}
        });
        assert!(applies_source(&ks, "GitRepository", "flux-system", "repo"));
        assert!(applies_source(&hr, "GitRepository", "flux-system", "repo"));
        assert!(!applies_source(&hr, "GitRepository", "data", "repo"));
        assert!(!applies_source(&ks, "OCIRepository", "flux-system", "repo"));
        let c = flux_appliers(&[
            ("Kustomization", &ks),
            ("HelmRelease", &hr),
            ("Kustomization", &remote),
        ]);
        assert_eq!(
            c.workloads,
            vec![
                w("Deployment", "prod", "web"),
                w("StatefulSet", "prod", "db")
            ]
        );
        assert_eq!(
            c.fallback[0].selector(),
            "helm.toolkit.fluxcd.io/name=redis,helm.toolkit.fluxcd.io/namespace=data"
        );
        assert!(
            c.remote
                .as_deref()
                .is_some_and(|r| r.contains("flux-system/edge"))
        );
    }
}
