//! Fingerprint keys: what identifies a finding across edits that move lines.

/// Numbers repeated keys within one scope, so two identical findings in one script keep
/// distinct identities for baselines: the first `k` stays `k`, the second becomes `k#2`.
#[derive(Debug, Default, Clone)]
pub struct KeyCounter {
    seen: Vec<String>,
}

impl KeyCounter {
    pub fn key(&mut self, base: String) -> String {
        let occurrence = self.seen.iter().filter(|k| **k == base).count();
        self.seen.push(base.clone());
        if occurrence == 0 {
            base
        } else {
            format!("{base}#{}", occurrence + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_numbered() {
        let mut keys = KeyCounter::default();
        assert_eq!(keys.key("a".to_owned()), "a");
        assert_eq!(keys.key("b".to_owned()), "b");
        assert_eq!(keys.key("a".to_owned()), "a#2");
        assert_eq!(keys.key("a".to_owned()), "a#3");
    }
}
