//! The pack's embedded threat data: actions with advisories (FG-022) and indicators of
//! compromise (FG-025). Both files live in `data/`, are compiled in, and are parsed once, at
//! first use. Their content is part of the pack's identity: see `DATA_RELEASES` in `lib.rs`.

use std::sync::OnceLock;

use sluice_pack_sdk::Severity;

use crate::json::{self, Value};

pub const VULNERABLE_ACTIONS_JSON: &str = include_str!("../data/vulnerable-actions.json");
pub const IOCS_JSON: &str = include_str!("../data/iocs.json");

/// One advisory for one action.
#[derive(Debug, Clone)]
pub struct Advisory {
    /// `owner/repo[/path]`, lower-cased.
    pub action: String,
    pub id: String,
    pub aliases: Vec<String>,
    pub url: String,
    /// First affected version (inclusive), if the advisory has one.
    pub introduced: Option<String>,
    /// First fixed version.
    pub fixed: Option<String>,
    /// Every version is affected.
    pub all_versions: bool,
    /// Tags that were (temporarily) moved to malicious code.
    pub compromised_tags: Vec<String>,
    pub malicious_commits: Vec<String>,
    pub severity: Severity,
    pub summary: String,
}

/// One indicator of compromise.
#[derive(Debug, Clone)]
pub struct Ioc {
    pub needle: String,
    pub kind: String,
    pub campaign: String,
    pub description: String,
    pub source: String,
}

/// Every advisory, in file order.
pub fn advisories() -> &'static [Advisory] {
    static DATA: OnceLock<Vec<Advisory>> = OnceLock::new();
    DATA.get_or_init(|| {
        let root = json::parse(VULNERABLE_ACTIONS_JSON)
            .expect("data/vulnerable-actions.json is valid JSON (checked by unit tests)");
        root.get("advisories")
            .map(Value::as_array)
            .unwrap_or_default()
            .iter()
            .map(|entry| Advisory {
                action: entry.str_of("action").to_ascii_lowercase(),
                id: entry.str_of("id").to_owned(),
                aliases: entry.strings_of("aliases"),
                url: entry.str_of("url").to_owned(),
                introduced: Some(entry.str_of("introduced").to_owned()).filter(|v| !v.is_empty()),
                fixed: Some(entry.str_of("fixed").to_owned()).filter(|v| !v.is_empty()),
                all_versions: entry
                    .get("all_versions")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                compromised_tags: entry.strings_of("compromised_tags"),
                malicious_commits: entry
                    .strings_of("malicious_commits")
                    .into_iter()
                    .map(|c| c.to_ascii_lowercase())
                    .collect(),
                severity: severity(entry.str_of("severity")),
                summary: entry.str_of("summary").to_owned(),
            })
            .collect()
    })
}

/// Every indicator, in file order.
pub fn iocs() -> &'static [Ioc] {
    static DATA: OnceLock<Vec<Ioc>> = OnceLock::new();
    DATA.get_or_init(|| {
        let root =
            json::parse(IOCS_JSON).expect("data/iocs.json is valid JSON (checked by unit tests)");
        root.get("iocs")
            .map(Value::as_array)
            .unwrap_or_default()
            .iter()
            .map(|entry| Ioc {
                needle: entry.str_of("needle").to_owned(),
                kind: entry.str_of("kind").to_owned(),
                campaign: entry.str_of("campaign").to_owned(),
                description: entry.str_of("description").to_owned(),
                source: entry.str_of("source").to_owned(),
            })
            .filter(|ioc| ioc.needle.len() >= 6)
            .collect()
    })
}

/// When each data file was compiled (`compiled` member), for messages and docs.
pub fn compiled() -> (String, String) {
    let date = |text: &str| {
        json::parse(text)
            .ok()
            .map(|v| v.str_of("compiled").to_owned())
            .unwrap_or_default()
    };
    (date(VULNERABLE_ACTIONS_JSON), date(IOCS_JSON))
}

fn severity(name: &str) -> Severity {
    match name {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "low" => Severity::Low,
        "info" => Severity::Info,
        _ => Severity::Medium,
    }
}

/// A 64-bit FNV-1a hash of both data files, to tie their content to a pack version.
pub fn fingerprint() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in VULNERABLE_ACTIONS_JSON
        .bytes()
        .chain([0u8])
        .chain(IOCS_JSON.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_parse_and_are_complete() {
        json::parse(VULNERABLE_ACTIONS_JSON).expect("vulnerable-actions.json parses");
        json::parse(IOCS_JSON).expect("iocs.json parses");
        let (a, b) = compiled();
        assert_eq!(a.len(), 10, "compiled date YYYY-MM-DD");
        assert_eq!(b.len(), 10, "compiled date YYYY-MM-DD");
        assert!(advisories().len() >= 10);
        for advisory in advisories() {
            assert!(advisory.action.contains('/'), "{advisory:?}");
            assert!(
                !advisory.id.is_empty() && !advisory.summary.is_empty(),
                "{advisory:?}"
            );
            assert!(
                advisory.all_versions
                    || advisory.fixed.is_some()
                    || !advisory.compromised_tags.is_empty(),
                "{advisory:?} affects nothing"
            );
            for commit in &advisory.malicious_commits {
                assert_eq!(commit.len(), 40, "{advisory:?}");
            }
        }
        assert!(iocs().len() >= 5);
        for ioc in iocs() {
            assert!(
                !ioc.campaign.is_empty() && !ioc.source.is_empty(),
                "{ioc:?}"
            );
        }
    }
}
