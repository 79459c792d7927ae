//! The restricted Pod Security Standard (baseline rules included), as a checker over a pod
//! spec, plus what this project adds: a read-only root filesystem and resource requests and
//! limits. Rules follow https://kubernetes.io/docs/concepts/security/pod-security-standards/
//! (policy version "latest"); each violation names its rule so a test can prove that every
//! rule fires.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub detail: String,
}

/// Every rule id the checker knows.
pub const RULES: &[&str] = &[
    "hostNamespaces",
    "privileged",
    "capabilitiesAdd",
    "capabilitiesDrop",
    "hostPathVolumes",
    "hostPorts",
    "appArmor",
    "seLinux",
    "procMount",
    "seccomp",
    "sysctls",
    "windowsHostProcess",
    "volumeTypes",
    "allowPrivilegeEscalation",
    "runAsNonRoot",
    "runAsUser",
    "readOnlyRootFilesystem",
    "resources",
];

const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Checks a Deployment (its pod template).
pub fn check_deployment(deployment: &Value) -> Vec<Violation> {
    check_pod_template(&deployment["spec"]["template"])
}

/// Checks a pod template (metadata and spec); empty when it meets every rule.
pub fn check_pod_template(template: &Value) -> Vec<Violation> {
    let spec = &template["spec"];
    let mut out = Vec::new();
    let mut v = |rule: &'static str, detail: String| out.push(Violation { rule, detail });
    let pod_sc = &spec["securityContext"];

    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == true {
            v("hostNamespaces", format!("{field}: true"));
        }
    }
    if pod_sc["windowsOptions"]["hostProcess"] == true {
        v("windowsHostProcess", "pod hostProcess: true".into());
    }
    for sysctl in pod_sc["sysctls"].as_array().into_iter().flatten() {
        let name = sysctl["name"].as_str().unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name) {
            v("sysctls", format!("unsafe sysctl {name}"));
        }
    }
    check_apparmor_selinux(pod_sc, "pod", &mut v);
    if let Some(annotations) = template["metadata"]["annotations"].as_object() {
        for (key, value) in annotations {
            if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
                && value.as_str().is_some_and(|p| p == "unconfined")
            {
                v("appArmor", format!("annotation {key}"));
            }
        }
    }
    if pod_sc["runAsUser"] == 0 {
        v("runAsUser", "pod runAsUser: 0".into());
    }
    let pod_seccomp = seccomp_type(pod_sc);
    if pod_seccomp.is_some_and(|t| t != "RuntimeDefault" && t != "Localhost") {
        v("seccomp", format!("pod seccompProfile {pod_seccomp:?}"));
    }

    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or_default();
        let kinds: Vec<&String> = volume
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|k| *k != "name")
            .collect();
        for kind in kinds {
            if kind == "hostPath" {
                v("hostPathVolumes", format!("volume {name} is a hostPath"));
            }
            if !ALLOWED_VOLUMES.contains(&kind.as_str()) {
                v("volumeTypes", format!("volume {name} has type {kind}"));
            }
        }
    }

    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|field| spec[field].as_array().into_iter().flatten());
    let mut any = false;
    for c in containers {
        any = true;
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == true {
            v("privileged", format!("{name}: privileged"));
        }
        if sc["windowsOptions"]["hostProcess"] == true {
            v("windowsHostProcess", format!("{name}: hostProcess"));
        }
        for cap in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            if cap != "NET_BIND_SERVICE" {
                v("capabilitiesAdd", format!("{name}: adds {cap}"));
            }
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            v("capabilitiesDrop", format!("{name}: does not drop ALL"));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port["hostPort"].as_u64().is_some_and(|p| p != 0) {
                v(
                    "hostPorts",
                    format!("{name}: hostPort {}", port["hostPort"]),
                );
            }
        }
        check_apparmor_selinux(sc, name, &mut v);
        if sc["procMount"].as_str().is_some_and(|m| m != "Default") {
            v(
                "procMount",
                format!("{name}: procMount {}", sc["procMount"]),
            );
        }
        match seccomp_type(sc).or(pod_seccomp) {
            Some("RuntimeDefault" | "Localhost") => {}
            other => v("seccomp", format!("{name}: seccompProfile {other:?}")),
        }
        if sc["allowPrivilegeEscalation"] != false {
            v(
                "allowPrivilegeEscalation",
                format!("{name}: allowPrivilegeEscalation is not false"),
            );
        }
        let non_root = match sc["runAsNonRoot"].as_bool() {
            Some(b) => b,
            None => pod_sc["runAsNonRoot"] == true,
        };
        if !non_root {
            v("runAsNonRoot", format!("{name}: runAsNonRoot is not true"));
        }
        if sc["runAsUser"] == 0 {
            v("runAsUser", format!("{name}: runAsUser: 0"));
        }
        if sc["readOnlyRootFilesystem"] != true {
            v(
                "readOnlyRootFilesystem",
                format!("{name}: readOnlyRootFilesystem is not true"),
            );
        }
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                if c["resources"][bound][resource].is_null() {
                    v("resources", format!("{name}: no {bound}.{resource}"));
                }
            }
        }
    }
    if !any {
        v("resources", "the pod has no containers".into());
    }
    out
}

fn seccomp_type(sc: &Value) -> Option<&str> {
    sc["seccompProfile"]["type"].as_str()
}

fn check_apparmor_selinux(sc: &Value, who: &str, v: &mut impl FnMut(&'static str, String)) {
    if let Some(t) = sc["appArmorProfile"]["type"].as_str()
        && t != "RuntimeDefault"
        && t != "Localhost"
    {
        v("appArmor", format!("{who}: appArmorProfile {t}"));
    }
    let selinux = &sc["seLinuxOptions"];
    if let Some(t) = selinux["type"].as_str()
        && !t.is_empty()
        && !SELINUX_TYPES.contains(&t)
    {
        v("seLinux", format!("{who}: seLinuxOptions.type {t}"));
    }
    for field in ["user", "role"] {
        if selinux[field].as_str().is_some_and(|s| !s.is_empty()) {
            v("seLinux", format!("{who}: seLinuxOptions.{field} set"));
        }
    }
}
