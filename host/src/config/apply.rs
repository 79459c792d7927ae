//! Applying a configuration to one root's findings and to its packs' scan requests.

use crate::config::{Config, IgnoreEntry, RuleConfig};
use crate::report::Finding;

impl Config {
    fn rule(&self, id: &str) -> Option<&RuleConfig> {
        self.rules
            .iter()
            .find(|(rule, _)| rule == id)
            .map(|(_, config)| config)
    }

    /// Drops findings of disabled rules, remaps severities and drops ignored findings.
    /// Returns how many were ignored, so the summary can count them: a disabled rule is a
    /// decision about the rule, an ignored finding is a decision about one place, and the
    /// report must show that places were ignored.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        let mut ignored = 0;
        findings.retain_mut(|finding| {
            let Some(rule) = self.rule(&finding.rule_id) else {
                return true;
            };
            if rule.disable {
                return false;
            }
            if let Some(severity) = rule.severity {
                finding.severity = severity;
            }
            if rule.ignore.iter().any(|entry| entry.matches(finding)) {
                ignored += 1;
                return false;
            }
            true
        });
        ignored
    }

    /// The options `.sluice.yml` sets for `pack`, one pair per value (a list gives the name
    /// several times, in order).
    pub fn options_for(&self, pack: &str) -> Vec<(String, String)> {
        self.packs
            .iter()
            .filter(|(id, _)| id == pack)
            .flat_map(|(_, config)| &config.options)
            .flat_map(|(name, values)| values.iter().map(|value| (name.clone(), value.clone())))
            .collect()
    }
}

impl IgnoreEntry {
    /// The finding's repository-relative path matches the glob and, with `:LINE`, its
    /// primary span covers that line.
    pub fn matches(&self, finding: &Finding) -> bool {
        self.glob.is_match(&finding.repository_path)
            && self
                .line
                .is_none_or(|line| (finding.start_line..=finding.end_line).contains(&line))
    }
}

/// The options a pack receives: the command line's, plus the configuration's for every name
/// the command line does not set (the command line wins).
pub fn merge_options(
    command_line: &[(String, String)],
    config: Option<&Config>,
    pack: &str,
) -> Vec<(String, String)> {
    let mut merged = command_line.to_vec();
    if let Some(config) = config {
        merged.extend(
            config
                .options_for(pack)
                .into_iter()
                .filter(|(name, _)| !command_line.iter().any(|(set, _)| set == name)),
        );
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PackConfig;

    #[test]
    fn command_line_options_win_by_name_and_config_fills_the_rest() {
        let config = Config {
            packs: vec![(
                "p".to_owned(),
                PackConfig {
                    options: vec![
                        ("a".to_owned(), vec!["config".to_owned()]),
                        ("b".to_owned(), vec!["x".to_owned(), "y".to_owned()]),
                    ],
                },
            )],
            ..Config::default()
        };
        let cli = vec![("a".to_owned(), "cli".to_owned())];
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        assert_eq!(
            merge_options(&cli, Some(&config), "p"),
            pairs(&[("a", "cli"), ("b", "x"), ("b", "y")])
        );
        assert_eq!(
            merge_options(&cli, Some(&config), "other"),
            pairs(&[("a", "cli")])
        );
        assert_eq!(
            merge_options(&[], None, "p"),
            Vec::<(String, String)>::new()
        );
    }
}
