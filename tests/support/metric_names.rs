//! The metric names the operator exports, and those a PromQL expression or dashboard uses.

use std::collections::BTreeSet;

use serde_json::Value;

/// Sample names the operator exports: counters as `_total`, histograms as `_bucket`, `_sum`
/// and `_count`, read from the real registry's `# TYPE` lines. A family without samples is not
/// encoded at all, so every one is given a sample first (through the calls the operator makes).
pub fn exported_metric_names() -> BTreeSet<String> {
    use sluice::operator::metrics::{ActionLabels, Metrics, SubjectLabels};
    let metrics = Metrics::new();
    let subject = SubjectLabels {
        kind: "Application".into(),
        namespace: "argocd".into(),
        name: "shop".into(),
    };
    metrics.set_subject(&subject, "Critical", [1, 2, 3, 4, 5]);
    metrics.set_discovered("Application", 1);
    metrics.observe_evaluation("Application", 0.25);
    metrics.pack_error("sluice-pack-github-actions");
    metrics
        .enforcement_actions
        .get_or_create(&ActionLabels {
            action: "suspendSync".into(),
            result: "applied".into(),
        })
        .inc();
    let stats = sluice::github::Stats::default();
    stats
        .by_endpoint
        .lock()
        .expect("stats lock")
        .insert(("commits", 200), 1);
    metrics.sync(1, 1, &stats);
    let text = metrics.encode();
    let mut names = BTreeSet::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let mut parts = line.split_whitespace();
        let name = parts.next().expect("a metric name");
        match parts.next().expect("a metric type") {
            "counter" => {
                names.insert(format!("{name}_total"));
            }
            "histogram" => {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
            _ => {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// Every `sluice_…` identifier in a PromQL expression.
pub fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut i = 0;
    while let Some(pos) = expr[i..].find("sluice_") {
        let start = i + pos;
        let mut end = start;
        while end < bytes.len() && ident(bytes[end]) {
            end += 1;
        }
        if start == 0 || !ident(bytes[start - 1]) {
            names.push(expr[start..end].to_owned());
        }
        i = end;
    }
    names
}

pub fn dashboard_exprs(panels: &Value, out: &mut Vec<(String, String)>) {
    for panel in panels.as_array().into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or("?").to_owned();
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                out.push((title.clone(), expr.to_owned()));
            }
        }
        dashboard_exprs(&panel["panels"], out);
    }
}

#[test]
fn the_metric_name_scanner_finds_names_and_ignores_lookalikes() {
    assert_eq!(
        metric_names("sum by (le) (rate(sluice_x_bucket[5m])) / my_sluice_y + sluice_z"),
        ["sluice_x_bucket", "sluice_z"]
    );
}
