//! Pack metadata as JSON, in the host's format. The host's build script embeds each built-in
//! pack's metadata this way, so it knows every built-in pack's file patterns without compiling
//! the component (compiling is the expensive part, and only packs with matching files need it).

use std::fmt::Write as _;

use crate::types::PackInfo;

/// `info` as a JSON object with camelCase keys and lower-case severities.
pub fn pack_info_json(info: &PackInfo) -> String {
    let mut out = String::from("{");
    field(&mut out, "id", info.id);
    field(&mut out, "name", info.name);
    field(&mut out, "version", info.version);
    field(&mut out, "platform", info.platform);
    field(&mut out, "description", info.description);
    out.push_str("\"patterns\":");
    list(&mut out, info.patterns.iter().copied());
    out.push_str(",\"contentPatterns\":[");
    for (i, pattern) in info.content_patterns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        field(&mut out, "glob", pattern.glob);
        field(&mut out, "marker", pattern.marker);
        // `field` ends every value with a comma.
        out.pop();
        out.push('}');
    }
    out.push_str("],\"rules\":[");
    for (i, rule) in info.rules.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        field(&mut out, "id", rule.id);
        field(&mut out, "name", rule.name);
        field(&mut out, "title", rule.title);
        field(&mut out, "defaultSeverity", rule.default_severity.as_str());
        field(
            &mut out,
            "defaultConfidence",
            rule.default_confidence.as_str(),
        );
        field(&mut out, "description", rule.description);
        field(&mut out, "remediation", rule.remediation);
        field(&mut out, "helpUri", rule.help_uri);
        out.push_str("\"tags\":");
        list(&mut out, rule.tags.iter().copied());
        out.push('}');
    }
    out.push_str("],\"options\":[");
    for (i, option) in info.options.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        field(&mut out, "name", option.name);
        field(&mut out, "description", option.description);
        string(&mut out, "defaultValue");
        out.push(':');
        string(&mut out, option.default_value);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn field(out: &mut String, key: &str, value: &str) {
    string(out, key);
    out.push(':');
    string(out, value);
    out.push(',');
}

fn list<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, item);
    }
    out.push(']');
}

fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Confidence, OptionMeta, RuleMeta, Severity};

    #[test]
    fn escapes_and_shapes() {
        let info = PackInfo {
            id: "p",
            name: "P \"quoted\"",
            version: "1.0.0",
            platform: "x",
            description: "line\nbreak",
            patterns: &["a/*.yml"],
            content_patterns: &[crate::ContentPattern {
                glob: "**/*.yml",
                marker: "kind: X",
            }],
            rules: vec![RuleMeta {
                id: "XX-001",
                name: "n",
                title: "t",
                default_severity: Severity::High,
                default_confidence: Confidence::Medium,
                description: "d",
                remediation: "r",
                help_uri: "",
                tags: &["injection"],
            }],
            options: vec![OptionMeta {
                name: "o",
                description: "od",
                default_value: "",
            }],
        };
        let json = pack_info_json(&info);
        assert!(json.contains(r#""name":"P \"quoted\"""#), "{json}");
        assert!(json.contains(r#""description":"line\nbreak""#), "{json}");
        assert!(
            json.contains(r#""defaultSeverity":"high","defaultConfidence":"medium""#),
            "{json}"
        );
        assert!(
            json.contains(r#""options":[{"name":"o","description":"od","defaultValue":""}]"#),
            "{json}"
        );
    }
}
