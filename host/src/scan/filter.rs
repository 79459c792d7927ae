//! Command-line filters on findings: `--min-confidence`, `--rule` and `--skip-rule`. They run
//! last, after the configuration (and anything else that decides what a finding is), and only
//! narrow what is reported; the exit code follows what remains.

use crate::pack::types::Confidence;
use crate::report::{Finding, Report};

/// Which findings to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Leave out findings less sure than this.
    pub min_confidence: Option<Confidence>,
    /// When not empty, only these rules are reported.
    pub only_rules: Vec<String>,
    /// These rules are not reported.
    pub skip_rules: Vec<String>,
}

/// A filter names a rule that no loaded pack declares: a typo would otherwise make the scan
/// silently report nothing (or everything).
#[derive(Debug, thiserror::Error)]
#[error("unknown rule `{id}` in {flag}: no loaded pack declares it{hint}")]
pub struct UnknownRule {
    pub id: String,
    pub flag: &'static str,
    hint: String,
}

impl FindingFilter {
    /// Checks every rule id against `known` (the ids of every loaded pack's rules).
    pub fn check_rules(&self, known: &[&str]) -> Result<(), UnknownRule> {
        let flagged = self
            .only_rules
            .iter()
            .map(|id| ("--rule", id))
            .chain(self.skip_rules.iter().map(|id| ("--skip-rule", id)));
        for (flag, id) in flagged {
            if known.contains(&id.as_str()) {
                continue;
            }
            let close = close_matches(id, known);
            let hint = if close.is_empty() {
                "; `sluice rules` lists them".to_owned()
            } else {
                format!("; did you mean {}?", close.join(" or "))
            };
            return Err(UnknownRule {
                id: id.clone(),
                flag,
                hint,
            });
        }
        Ok(())
    }

    pub fn keeps(&self, finding: &Finding) -> bool {
        self.min_confidence
            .is_none_or(|min| finding.confidence >= min)
            && (self.only_rules.is_empty() || self.only_rules.contains(&finding.rule_id))
            && !self.skip_rules.contains(&finding.rule_id)
    }

    pub fn apply(&self, report: &mut Report) {
        report.findings.retain(|finding| self.keeps(finding));
    }
}

/// The known ids closest to `id` (ignoring case), if at most two edits away: only the
/// nearest ones, at most three, so a case slip suggests exactly the intended id.
pub fn close_matches(id: &str, known: &[&str]) -> Vec<String> {
    let wanted = id.to_ascii_uppercase();
    let mut scored: Vec<(usize, &str)> = known
        .iter()
        .map(|candidate| {
            (
                edit_distance(&wanted, &candidate.to_ascii_uppercase()),
                *candidate,
            )
        })
        .filter(|(distance, _)| *distance <= 2)
        .collect();
    scored.sort_unstable();
    scored.dedup_by(|a, b| a.1 == b.1);
    let nearest = scored.first().map_or(0, |(distance, _)| *distance);
    scored
        .into_iter()
        .take_while(|(distance, _)| *distance == nearest)
        .take(3)
        .map(|(_, candidate)| format!("`{candidate}`"))
        .collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_matches_catch_typos_and_case() {
        let known = ["FG-001", "FG-002", "GL-001", "JK-009"];
        assert_eq!(close_matches("fg-001", &known), ["`FG-001`"]);
        assert_eq!(close_matches("FG-01", &known), ["`FG-001`"]);
        assert_eq!(close_matches("FG-00", &known), ["`FG-001`", "`FG-002`"]);
        assert!(close_matches("XYZ-123456", &known).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
