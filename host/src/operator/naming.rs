//! Report names: `<kind>-<name>` lowercased, or with a short hash suffix when that is not a
//! valid object name or is already taken by another subject's report.

use sha2::{Digest, Sha256};

use crate::operator::kinds::WatchedKind;

/// Kubernetes object names are DNS subdomains: at most 253 characters.
const MAX_NAME: usize = 253;

/// The plain name, when valid.
pub fn plain_report_name(kind: WatchedKind, name: &str) -> Option<String> {
    let candidate = format!("{}-{}", kind.label(), name).to_ascii_lowercase();
    is_dns_subdomain(&candidate).then_some(candidate)
}

/// The name with an 8-hex-digit hash of (kind, namespace, name), shortened to fit.
pub fn hashed_report_name(kind: WatchedKind, namespace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{}/{namespace}/{name}", kind.kind()).as_bytes());
    let suffix = hex::encode(&digest[..4]);
    let mut stem: String = format!("{}-{}", kind.label(), name)
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    stem.truncate(MAX_NAME - suffix.len() - 1);
    let stem = stem.trim_matches('-');
    format!("{stem}-{suffix}")
}

/// The name for a subject's report: plain unless invalid.
pub fn report_name(kind: WatchedKind, namespace: &str, name: &str) -> String {
    plain_report_name(kind, name).unwrap_or_else(|| hashed_report_name(kind, namespace, name))
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        // Kubernetes checks the RFC 1123 subdomain pattern and the total length only.
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_and_hashed_fallbacks() {
        assert_eq!(
            report_name(WatchedKind::Application, "argocd", "shop"),
            "application-shop"
        );
        assert_eq!(
            report_name(WatchedKind::OciRepository, "flux", "podinfo"),
            "ocirepository-podinfo"
        );
        let long = "a".repeat(245);
        let name = report_name(WatchedKind::GitRepository, "flux", &long);
        assert!(name.len() <= 253 && is_dns_subdomain(&name), "{name}");
        assert_ne!(
            name,
            report_name(WatchedKind::GitRepository, "other", &long),
            "the hash includes the namespace"
        );
        let odd = hashed_report_name(WatchedKind::Application, "ns", "-x..y-");
        assert!(is_dns_subdomain(&odd), "{odd}");
        let hashed = hashed_report_name(WatchedKind::Application, "ns", "shop");
        assert!(hashed.starts_with("application-shop-") && hashed.len() == 25);
    }
}
