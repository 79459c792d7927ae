//! Which policies select a subject: namespaced policies of the subject's namespace, cluster
//! policies whose `namespaceSelector` matches the namespace's labels; then each policy's
//! `selector` (kinds, `matchLabels`, `matchExpressions`) against the subject's labels.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::api::policy::{PolicySpec, SubjectSelector};
use crate::api::{ClusterPipelineSecurityPolicy, PipelineSecurityPolicy};
use crate::operator::kinds::WatchedKind;

use super::{CLUSTER_KIND, NAMESPACED_KIND};

/// A policy that selects the subject being evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedPolicy {
    pub kind: &'static str,
    /// `None` for a cluster policy.
    pub namespace: Option<String>,
    pub name: String,
    pub spec: PolicySpec,
}

impl SelectedPolicy {
    /// The policy's `evaluationInterval`, when set and valid (the CRD schema checks the
    /// pattern; a value that still does not parse is ignored rather than fatal).
    pub fn interval(&self) -> Option<Duration> {
        let text = self.spec.evaluation_interval.as_deref()?;
        match crate::api::duration::parse(text) {
            Ok(interval) if !interval.is_zero() => Some(interval),
            _ => {
                tracing::warn!(policy = %self.name, "invalid evaluationInterval {text:?}; ignored");
                None
            }
        }
    }
}

/// What selection looks at on a subject.
#[derive(Debug, Clone, Default)]
pub struct SubjectLabels<'a> {
    pub namespace: &'a str,
    pub labels: BTreeMap<String, String>,
    /// The labels of the subject's namespace (`None`: the namespace is not known).
    pub namespace_labels: Option<BTreeMap<String, String>>,
}

/// The policies selecting a subject of `kind`, sorted (kind, namespace, name) so results are
/// stable.
pub fn selecting(
    kind: WatchedKind,
    subject: &SubjectLabels<'_>,
    namespaced: &[PipelineSecurityPolicy],
    cluster: &[ClusterPipelineSecurityPolicy],
) -> Vec<SelectedPolicy> {
    let mut selected = Vec::new();
    for policy in namespaced {
        if policy.metadata.namespace.as_deref() == Some(subject.namespace)
            && selector_matches(policy.spec.selector.as_ref(), kind, &subject.labels)
        {
            selected.push(SelectedPolicy {
                kind: NAMESPACED_KIND,
                namespace: policy.metadata.namespace.clone(),
                name: policy.metadata.name.clone().unwrap_or_default(),
                spec: policy.spec.clone(),
            });
        }
    }
    for policy in cluster {
        let in_scope = match &policy.spec.namespace_selector {
            None => true,
            // A namespace whose labels are unknown is not selected: a selector that names
            // labels must see them match.
            Some(selector) => subject
                .namespace_labels
                .as_ref()
                .is_some_and(|labels| label_selector_matches(selector, labels)),
        };
        if in_scope && selector_matches(policy.spec.policy.selector.as_ref(), kind, &subject.labels)
        {
            selected.push(SelectedPolicy {
                kind: CLUSTER_KIND,
                namespace: None,
                name: policy.metadata.name.clone().unwrap_or_default(),
                spec: policy.spec.policy.clone(),
            });
        }
    }
    selected.sort_by(|a, b| (a.kind, &a.namespace, &a.name).cmp(&(b.kind, &b.namespace, &b.name)));
    selected
}

/// A policy `selector` against a subject; an absent selector selects everything.
pub fn selector_matches(
    selector: Option<&SubjectSelector>,
    kind: WatchedKind,
    labels: &BTreeMap<String, String>,
) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let kind_ok = selector.cicd_kinds.is_empty()
        || selector
            .cicd_kinds
            .iter()
            .any(|k| k.as_str() == kind.kind());
    kind_ok && labels_match(&selector.match_labels, &selector.match_expressions, labels)
}

/// A Kubernetes `LabelSelector` (for namespaces).
pub fn label_selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    labels_match(
        selector.match_labels.as_ref().unwrap_or(&BTreeMap::new()),
        selector.match_expressions.as_deref().unwrap_or_default(),
        labels,
    )
}

fn labels_match(
    match_labels: &BTreeMap<String, String>,
    expressions: &[LabelSelectorRequirement],
    labels: &BTreeMap<String, String>,
) -> bool {
    match_labels
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
        && expressions.iter().all(|e| requirement_matches(e, labels))
}

/// One requirement, as the API server reads it. An unknown operator matches nothing, so a
/// typo never widens a policy.
fn requirement_matches(req: &LabelSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let value = labels.get(&req.key);
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ClusterPolicySpec;
    use crate::api::policy::CicdKind;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn req(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    fn selector(
        kinds: &[CicdKind],
        ml: &[(&str, &str)],
        exprs: Vec<LabelSelectorRequirement>,
    ) -> SubjectSelector {
        SubjectSelector {
            cicd_kinds: kinds.to_vec(),
            match_labels: labels(ml),
            match_expressions: exprs,
        }
    }

    #[test]
    fn an_interval_counts_only_when_valid_and_positive() {
        let with = |interval: Option<&str>| SelectedPolicy {
            kind: NAMESPACED_KIND,
            namespace: None,
            name: "p".into(),
            spec: PolicySpec {
                evaluation_interval: interval.map(str::to_owned),
                ..PolicySpec::default()
            },
        };
        assert_eq!(
            with(Some("1h30m")).interval(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(with(Some("0s")).interval(), None);
        assert_eq!(with(Some("soon")).interval(), None);
        assert_eq!(with(None).interval(), None);
    }

    #[test]
    fn absent_and_empty_selectors_select_everything() {
        let l = labels(&[]);
        assert!(selector_matches(None, WatchedKind::Pipeline, &l));
        assert!(selector_matches(
            Some(&SubjectSelector::default()),
            WatchedKind::Application,
            &l
        ));
    }

    #[test]
    fn cicd_kinds_limit_the_kinds() {
        let s = selector(
            &[CicdKind::Application, CicdKind::OciRepository],
            &[],
            vec![],
        );
        let l = labels(&[]);
        assert!(selector_matches(Some(&s), WatchedKind::Application, &l));
        assert!(selector_matches(Some(&s), WatchedKind::OciRepository, &l));
        assert!(!selector_matches(Some(&s), WatchedKind::GitRepository, &l));
        assert!(!selector_matches(Some(&s), WatchedKind::Pipeline, &l));
    }

    #[test]
    fn match_labels_need_every_pair() {
        let s = selector(&[], &[("team", "pay"), ("env", "prod")], vec![]);
        let kind = WatchedKind::Application;
        assert!(selector_matches(
            Some(&s),
            kind,
            &labels(&[("team", "pay"), ("env", "prod"), ("x", "y")])
        ));
        assert!(!selector_matches(
            Some(&s),
            kind,
            &labels(&[("team", "pay")])
        ));
        assert!(!selector_matches(
            Some(&s),
            kind,
            &labels(&[("team", "pay"), ("env", "dev")])
        ));
    }

    #[test]
    fn every_expression_operator() {
        let kind = WatchedKind::GitRepository;
        let prod = labels(&[("env", "prod")]);
        let dev = labels(&[("env", "dev")]);
        let none = labels(&[]);
        let check = |r: LabelSelectorRequirement, l: &BTreeMap<String, String>| {
            selector_matches(Some(&selector(&[], &[], vec![r])), kind, l)
        };
        let in_ = || req("env", "In", &["prod", "staging"]);
        assert!(check(in_(), &prod));
        assert!(!check(in_(), &dev));
        assert!(!check(in_(), &none));
        let not_in = || req("env", "NotIn", &["prod"]);
        assert!(!check(not_in(), &prod));
        assert!(check(not_in(), &dev));
        assert!(
            check(not_in(), &none),
            "NotIn matches a missing key, as in Kubernetes"
        );
        assert!(check(req("env", "Exists", &[]), &dev));
        assert!(!check(req("env", "Exists", &[]), &none));
        assert!(check(req("env", "DoesNotExist", &[]), &none));
        assert!(!check(req("env", "DoesNotExist", &[]), &prod));
        assert!(
            !check(req("env", "Gt", &["1"]), &prod),
            "unknown operators match nothing"
        );
    }

    fn namespaced(ns: &str, name: &str, sel: Option<SubjectSelector>) -> PipelineSecurityPolicy {
        let mut p = PipelineSecurityPolicy::new(
            name,
            PolicySpec {
                selector: sel,
                ..PolicySpec::default()
            },
        );
        p.metadata.namespace = Some(ns.to_owned());
        p
    }

    fn cluster(name: &str, ns_selector: Option<LabelSelector>) -> ClusterPipelineSecurityPolicy {
        ClusterPipelineSecurityPolicy::new(
            name,
            ClusterPolicySpec {
                policy: PolicySpec::default(),
                namespace_selector: ns_selector,
            },
        )
    }

    #[test]
    fn namespaced_policies_apply_in_their_namespace_and_cluster_ones_by_namespace_labels() {
        let policies = [
            namespaced("shop", "b", None),
            namespaced("other", "c", None),
            namespaced(
                "shop",
                "a",
                Some(selector(&[CicdKind::Pipeline], &[], vec![])),
            ),
        ];
        let audited = LabelSelector {
            match_labels: Some(labels(&[("audit", "on")])),
            match_expressions: Some(vec![req("tier", "NotIn", &["test"])]),
        };
        let clusters = [
            cluster("everywhere", None),
            cluster("audited", Some(audited)),
        ];
        let subject = SubjectLabels {
            namespace: "shop",
            labels: labels(&[]),
            namespace_labels: Some(labels(&[("audit", "on")])),
        };
        let names = |s: &[SelectedPolicy]| -> Vec<String> {
            s.iter().map(|p| format!("{}/{}", p.kind, p.name)).collect()
        };
        let selected = selecting(WatchedKind::Application, &subject, &policies, &clusters);
        assert_eq!(
            names(&selected),
            [
                "ClusterPipelineSecurityPolicy/audited",
                "ClusterPipelineSecurityPolicy/everywhere",
                "PipelineSecurityPolicy/b"
            ]
        );
        let test_ns = SubjectLabels {
            namespace_labels: Some(labels(&[("audit", "on"), ("tier", "test")])),
            ..subject.clone()
        };
        let selected = selecting(WatchedKind::Pipeline, &test_ns, &policies, &clusters);
        assert_eq!(
            names(&selected),
            [
                "ClusterPipelineSecurityPolicy/everywhere",
                "PipelineSecurityPolicy/a",
                "PipelineSecurityPolicy/b"
            ]
        );
        let unknown_ns = SubjectLabels {
            namespace_labels: None,
            ..subject
        };
        let selected = selecting(WatchedKind::Application, &unknown_ns, &policies, &clusters);
        assert_eq!(
            names(&selected),
            [
                "ClusterPipelineSecurityPolicy/everywhere",
                "PipelineSecurityPolicy/b"
            ]
        );
    }
}
