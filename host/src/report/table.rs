//! `--format table`: rustc-style diagnostics for people at a terminal.
//!
//! ```text
//! high[FG-002]: Script injection: `github.event.issue.title` is expanded into a shell script
//!   --> .github/workflows/triage.yml:14:20
//!    |
//! 14 |           echo "Title: ${{ github.event.issue.title }}"
//!    |                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!    = confidence: high
//! ```

use std::fmt::Write as _;

use crate::pack::types::Severity;
use crate::report::{Finding, Report};

/// Whether to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Always,
    Never,
}

pub fn render(report: &Report, color: Color) -> String {
    let paint = Painter(color == Color::Always);
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&mut out, report, finding, paint);
    }
    if report.show_suppressed && !report.suppressed.is_empty() {
        let _ = writeln!(out, "{}\n", paint.bold("suppressed findings:"));
        for suppressed in &report.suppressed {
            let finding = &suppressed.finding;
            let how = &suppressed.suppression;
            let _ = writeln!(
                out,
                "suppressed[{}]: {}\n  {} {}:{}:{}\n  {} suppressed by {}:{}{}\n",
                finding.rule_id,
                finding.message,
                paint.blue("-->"),
                finding.path,
                finding.start_line,
                finding.start_column,
                paint.blue("="),
                how.path,
                how.line,
                how.reason
                    .as_deref()
                    .map(|reason| format!(": {reason}"))
                    .unwrap_or_default()
            );
        }
    }
    for error in &report.errors {
        let mut location = error.path.clone().unwrap_or_default();
        if let Some(line) = error.line {
            let _ = write!(location, ":{line}");
            if let Some(column) = error.column {
                let _ = write!(location, ":{column}");
            }
        }
        let _ = write!(
            out,
            "{}",
            paint.red_bold(&format!("error[{}]", error.kind.as_str()))
        );
        let _ = write!(out, ": {}", error.message);
        let mut notes = Vec::new();
        if let Some(pack) = &error.pack {
            notes.push(format!("pack {pack}"));
        }
        if let Some(reason) = &error.reason {
            notes.push(reason.clone());
        }
        if !notes.is_empty() {
            let _ = write!(out, " ({})", notes.join(", "));
        }
        out.push('\n');
        if !location.is_empty() {
            let _ = writeln!(out, "  {} {location}", paint.blue("-->"));
        }
        out.push('\n');
    }
    for repository in &report.repositories {
        let _ = writeln!(
            out,
            "scanned {}{} at commit {}",
            repository.repository,
            repository
                .git_ref
                .as_deref()
                .map_or_else(|| " (default branch)".to_owned(), |r| format!("@{r}")),
            repository.commit
        );
    }
    out.push_str(&summary_line(report, paint));
    out.push('\n');
    out
}

fn render_finding(out: &mut String, report: &Report, finding: &Finding, paint: Painter) {
    let head = format!("{}[{}]", finding.severity, finding.rule_id);
    let _ = writeln!(
        out,
        "{}: {}",
        paint.severity(finding.severity, &head),
        paint.bold(&finding.message)
    );
    let line_label = finding.start_line.to_string();
    let gutter = " ".repeat(line_label.len());
    let _ = writeln!(
        out,
        "{gutter}{} {}:{}:{}",
        paint.blue("-->"),
        finding.path,
        finding.start_line,
        finding.start_column
    );
    let source_line = report
        .sources
        .get(&finding.path)
        .and_then(|text| {
            text.lines()
                .nth(finding.start_line.saturating_sub(1) as usize)
        })
        .map(|line| line.trim_end_matches('\r').replace('\t', " "));
    if let Some(line) = source_line {
        let width = line.chars().count();
        let start = (finding.start_column.max(1) as usize - 1).min(width);
        let end = if finding.end_line == finding.start_line {
            (finding.end_column.max(1) as usize - 1).clamp(start + 1, width.max(start + 1))
        } else {
            width.max(start + 1)
        };
        let _ = writeln!(out, "{gutter} {}", paint.blue("|"));
        let _ = writeln!(
            out,
            "{} {} {line}",
            paint.blue(&line_label),
            paint.blue("|")
        );
        let _ = writeln!(
            out,
            "{gutter} {} {}{}",
            paint.blue("|"),
            " ".repeat(start),
            paint.severity(finding.severity, &"^".repeat(end - start))
        );
    }
    let _ = writeln!(
        out,
        "{gutter} {} confidence: {}",
        paint.blue("="),
        finding.confidence
    );
    for mitigation in &finding.mitigations {
        let _ = writeln!(
            out,
            "{gutter} {} mitigated by {}: {}",
            paint.blue("="),
            mitigation.kind,
            mitigation.description
        );
    }
    for related in &finding.related {
        let _ = writeln!(
            out,
            "{gutter} {} see {}:{}:{}: {}",
            paint.blue("="),
            related.path,
            related.span.start_line,
            related.span.start_column,
            related.message
        );
    }
    out.push('\n');
}

fn summary_line(report: &Report, paint: Painter) -> String {
    let summary = report.summary();
    let mut parts = Vec::new();
    for (count, severity) in [
        (summary.critical, Severity::Critical),
        (summary.high, Severity::High),
        (summary.medium, Severity::Medium),
        (summary.low, Severity::Low),
        (summary.info, Severity::Info),
    ] {
        if count > 0 {
            parts.push(paint.severity(severity, &format!("{count} {severity}")));
        }
    }
    let findings = match summary.findings {
        0 => "no findings".to_owned(),
        1 => "1 finding".to_owned(),
        n => format!("{n} findings"),
    };
    let mut line = if parts.is_empty() {
        findings
    } else {
        format!("{findings} ({})", parts.join(", "))
    };
    let files = if summary.files == 1 { "file" } else { "files" };
    let _ = write!(line, " in {} {files}", summary.files);
    if summary.config_ignored > 0 {
        let _ = write!(
            line,
            "; {} ignored by configuration",
            summary.config_ignored
        );
    }
    if summary.suppressed > 0 {
        let _ = write!(line, "; {} suppressed", summary.suppressed);
    }
    if summary.baselined > 0 {
        let _ = write!(line, "; {} baselined", summary.baselined);
    }
    match summary.errors {
        0 => {}
        1 => line.push_str(&format!("; {}", paint.red_bold("1 error"))),
        n => line.push_str(&format!("; {}", paint.red_bold(&format!("{n} errors")))),
    }
    line
}

#[derive(Clone, Copy)]
struct Painter(bool);

impl Painter {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn blue(self, text: &str) -> String {
        self.wrap("1;34", text)
    }

    fn red_bold(self, text: &str) -> String {
        self.wrap("1;31", text)
    }

    fn severity(self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;36",
            Severity::Info => "1;37",
        };
        self.wrap(code, text)
    }
}
