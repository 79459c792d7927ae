//! The upstream kinds the operator watches, by CRD name, with the API versions it reads.

use kube::core::{ApiResource, GroupVersionKind};

/// A kind the operator knows: subjects get a report, appliers give correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchedKind {
    /// Argo CD `Application`.
    Application,
    /// Flux `GitRepository`.
    GitRepository,
    /// Flux `OCIRepository`.
    OciRepository,
    /// Tekton `Pipeline`, scanned from the cluster object itself.
    Pipeline,
    /// Flux `Kustomization`: applies a source.
    Kustomization,
    /// Flux `HelmRelease`: applies a source.
    HelmRelease,
}

impl WatchedKind {
    pub const ALL: [WatchedKind; 6] = [
        WatchedKind::Application,
        WatchedKind::GitRepository,
        WatchedKind::OciRepository,
        WatchedKind::Pipeline,
        WatchedKind::Kustomization,
        WatchedKind::HelmRelease,
    ];

    /// The kinds that get a report.
    pub const SUBJECTS: [WatchedKind; 4] = [
        WatchedKind::Application,
        WatchedKind::GitRepository,
        WatchedKind::OciRepository,
        WatchedKind::Pipeline,
    ];

    pub fn kind(self) -> &'static str {
        match self {
            WatchedKind::Application => "Application",
            WatchedKind::GitRepository => "GitRepository",
            WatchedKind::OciRepository => "OCIRepository",
            WatchedKind::Pipeline => "Pipeline",
            WatchedKind::Kustomization => "Kustomization",
            WatchedKind::HelmRelease => "HelmRelease",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            WatchedKind::Application => "argoproj.io",
            WatchedKind::GitRepository | WatchedKind::OciRepository => "source.toolkit.fluxcd.io",
            WatchedKind::Pipeline => "tekton.dev",
            WatchedKind::Kustomization => "kustomize.toolkit.fluxcd.io",
            WatchedKind::HelmRelease => "helm.toolkit.fluxcd.io",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            WatchedKind::Application => "applications",
            WatchedKind::GitRepository => "gitrepositories",
            WatchedKind::OciRepository => "ocirepositories",
            WatchedKind::Pipeline => "pipelines",
            WatchedKind::Kustomization => "kustomizations",
            WatchedKind::HelmRelease => "helmreleases",
        }
    }

    /// Versions read, best first: the current storage version, then older served ones whose
    /// fields the resolvers read the same way.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            WatchedKind::Application => &["v1alpha1"],
            WatchedKind::GitRepository | WatchedKind::OciRepository => &["v1", "v1beta2"],
            WatchedKind::Pipeline => &["v1", "v1beta1"],
            WatchedKind::Kustomization => &["v1", "v1beta2"],
            WatchedKind::HelmRelease => &["v2", "v2beta2"],
        }
    }

    /// `<plural>.<group>`: the name of the CRD that installs this kind.
    pub fn crd_name(self) -> String {
        format!("{}.{}", self.plural(), self.group())
    }

    pub fn from_crd_name(name: &str) -> Option<WatchedKind> {
        WatchedKind::ALL.into_iter().find(|k| k.crd_name() == name)
    }

    pub fn from_kind(kind: &str) -> Option<WatchedKind> {
        WatchedKind::ALL.into_iter().find(|k| k.kind() == kind)
    }

    pub fn is_subject(self) -> bool {
        WatchedKind::SUBJECTS.contains(&self)
    }

    /// The dynamic API resource for `version`.
    pub fn api_resource(self, version: &str) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group(), version, self.kind()),
            self.plural(),
        )
    }

    /// The lowercase kind, used in report names and metric labels.
    pub fn label(self) -> &'static str {
        match self {
            WatchedKind::Application => "application",
            WatchedKind::GitRepository => "gitrepository",
            WatchedKind::OciRepository => "ocirepository",
            WatchedKind::Pipeline => "pipeline",
            WatchedKind::Kustomization => "kustomization",
            WatchedKind::HelmRelease => "helmrelease",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_names_round_trip() {
        for kind in WatchedKind::ALL {
            assert_eq!(WatchedKind::from_crd_name(&kind.crd_name()), Some(kind));
            assert_eq!(WatchedKind::from_kind(kind.kind()), Some(kind));
        }
        assert_eq!(
            WatchedKind::Application.crd_name(),
            "applications.argoproj.io"
        );
        assert_eq!(WatchedKind::from_crd_name("widgets.example.com"), None);
    }
}
