//! PolicyReport names: `sluice-<report name>`, or shortened with a hash of the report name when
//! that would exceed the 253 characters of an object name.

use sha2::{Digest, Sha256};

const PREFIX: &str = "sluice-";
const MAX_NAME: usize = 253;

/// The PolicyReport name for the sluice report `report` (itself a valid object name).
pub fn policy_report_name(report: &str) -> String {
    let plain = format!("{PREFIX}{report}");
    if plain.len() <= MAX_NAME {
        return plain;
    }
    let digest = Sha256::digest(report.as_bytes());
    let suffix = hex::encode(&digest[..4]);
    let mut stem = plain;
    stem.truncate(MAX_NAME - suffix.len() - 1);
    // A DNS subdomain's labels may not end in '-' or '.'.
    let stem = stem.trim_end_matches(['-', '.']);
    format!("{stem}-{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_or_hashed_to_fit() {
        assert_eq!(
            policy_report_name("application-shop"),
            "sluice-application-shop"
        );
        let long = format!("application-{}", "a".repeat(240));
        let name = policy_report_name(&long);
        assert_eq!(name.len(), 253, "{name}");
        assert!(name.starts_with("sluice-application-aaa"));
        let other = format!("application-{}b", "a".repeat(239));
        assert_ne!(
            name,
            policy_report_name(&other),
            "the hash tells them apart"
        );
        // Cut right after a dot: the dot goes too.
        let dotted = format!("application-{}.{}", "a".repeat(224), "b".repeat(10));
        let cut = policy_report_name(&dotted);
        assert!(!cut.contains(".-") && !cut.contains("--"), "{cut}");
    }
}
