//! The command-line interface, declared with clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli::units::{parse_duration, parse_size};

/// Finds the CI/CD pipeline configurations that let an attacker run code or steal credentials.
///
/// Rules live in sandboxed WebAssembly rule packs: one per CI platform is built in, and
/// third-party packs load with --pack.
#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More log output on stderr (-v info, -vv debug; SLUICE_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan directories or files for insecure pipeline configurations.
    #[command(after_long_help = SCAN_HELP)]
    Scan(Box<ScanArgs>),
    /// List the rule packs (built-in and --pack) with version, platform and rule count.
    Packs(PackArgs),
    /// List every rule of every pack, or write their documentation pages.
    Rules(RulesArgs),
    /// Print a rule's documentation: what it detects, why it matters, how to fix and
    /// suppress it.
    Explain(ExplainArgs),
    /// Print the operator's CustomResourceDefinitions as YAML, or write one file per CRD.
    Crds(CrdsArgs),
    /// Run the Kubernetes operator: keep a PipelineSecurityReport for every Argo CD
    /// Application, Flux source and Tekton Pipeline in the cluster.
    Operator(Box<crate::cli::operator::OperatorArgs>),
}

#[derive(Debug, Args)]
pub struct CrdsArgs {
    /// Write `<plural>.<group>.yaml` files into DIR instead of printing one multi-document
    /// stream (the repository's `crds/` is generated this way).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `table`: one line per rule. `markdown`: each rule's documentation page (from the packs'
    /// metadata), printed or written to --output-dir.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,

    /// With --format markdown: write `<RULE-ID>.md` files into DIR (the repository's
    /// `docs/rules` is generated this way).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    #[command(flatten)]
    pub packs: PackArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id, such as FG-001 (case-insensitive).
    #[arg(value_name = "RULE-ID")]
    pub rule: String,

    #[command(flatten)]
    pub packs: PackArgs,
}

const SCAN_HELP: &str = "\
Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage, I/O or pack errors, files that could not be analysed, or nothing to scan
     (an incomplete scan is never reported as clean)

Examples:
  sluice scan .                                   scan the current repository
  sluice scan --format sarif --output sluice.sarif .
  sluice scan --platform github-actions corpus/   treat every YAML file as a workflow
  sluice scan --pack my-rules.wasm .              add a third-party rule pack
  sluice scan --write-baseline .sluice-baseline.json .   accept today's findings
  sluice scan --baseline .sluice-baseline.json .  report only findings not in the baseline
  sluice scan --config ci/sluice.yml .            use this configuration file
  sluice scan --skip-rule FG-006 --min-confidence medium .
  sluice scan --github octo-org/app@main          scan a GitHub repository without cloning it
  sluice scan --github-org octo-org               scan every repository of an organisation

Suppress a finding with a comment on its line or the line above:
  # sluice: ignore[FG-002] the title is validated by the previous step";

/// Options shared by every command that loads packs.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// Load a third-party rule pack (a WebAssembly component). Repeatable.
    #[arg(long = "pack", value_name = "FILE.wasm")]
    pub packs: Vec<PathBuf>,

    /// Wall-clock limit for one pack call.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub pack_timeout: Duration,

    /// Memory limit for one pack call.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub pack_memory: u64,

    /// Directory for compiled packs [default: $XDG_CACHE_HOME/sluice or ~/.cache/sluice].
    #[arg(long, value_name = "DIR", env = "SLUICE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile packs every time instead of using the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Directories or files to scan [default: . unless --github or --github-org is given].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub github: GithubArgs,

    /// Treat every YAML/Groovy file under PATH as input for this platform's pack, whatever
    /// its name (e.g. github-actions).
    #[arg(long, value_name = "ID")]
    pub platform: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::High)]
    pub fail_on: FailOn,

    /// Leave out findings below this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub min_severity: Option<SeverityArg>,

    /// Files larger than this are reported as errors instead of scanned.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Colour for the table format.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    #[command(flatten)]
    pub packs: PackArgs,

    /// Report findings even where a `sluice: ignore[RULE-ID]` comment suppresses them.
    #[arg(long)]
    pub no_ignores: bool,

    /// List suppressed findings (table and JSON; SARIF always carries them, marked suppressed).
    #[arg(long)]
    pub show_suppressed: bool,

    /// Hide findings whose fingerprint is in this baseline file (see docs/baseline.md).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write the findings left after suppressions (before --baseline and the severity filters)
    /// to FILE as a baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    #[command(flatten)]
    pub triage: TriageArgs,
}

/// Remote scanning through the GitHub REST API (issue 8).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("github_target").multiple(true).args(["repos", "org"])))]
pub struct GithubArgs {
    /// Scan a GitHub repository without cloning it: OWNER/REPO, optionally @REF (a branch, tag
    /// or commit; the default branch when omitted). Repeatable; combines with PATHs.
    #[arg(long = "github", value_name = "OWNER/REPO[@REF]")]
    pub repos: Vec<String>,

    /// Scan every non-archived repository of a GitHub organisation at its default branch.
    /// Repeatable; combines with --github and PATHs. A repository that cannot be read is an
    /// error entry in the report; the others are still scanned.
    #[arg(long = "github-org", value_name = "ORG")]
    pub org: Vec<String>,

    /// The GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = sluice::github::DEFAULT_API_URL, requires = "github_target")]
    pub github_api_url: String,

    #[command(flatten)]
    pub auth: GithubAuthArgs,

    /// When GitHub's hourly rate limit is used up, wait up to DURATION for it to reset instead
    /// of failing (e.g. 15m). Secondary limits (Retry-After) and server errors are always
    /// retried a few times.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "github_target")]
    pub github_wait: Option<Duration>,

    /// Give up on a GitHub request (connecting, or waiting for data) after DURATION; it is
    /// retried like a server error.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, requires = "github_target")]
    pub github_timeout: Duration,
}

impl GithubArgs {
    /// Whether anything is to be read from GitHub.
    pub fn has_targets(&self) -> bool {
        !self.repos.is_empty() || !self.org.is_empty()
    }
}

/// How to authenticate to GitHub: a token (--github-token-file, else GITHUB_TOKEN, else
/// GH_TOKEN) or a GitHub App installation. Shared by `scan` and `operator`, so it carries no
/// requirement on other arguments; each command checks its own.
#[derive(Debug, Clone, Args)]
pub struct GithubAuthArgs {
    /// Read the GitHub token from FILE instead of GITHUB_TOKEN / GH_TOKEN.
    #[arg(long, value_name = "FILE", conflicts_with = "github_app_id")]
    pub github_token_file: Option<PathBuf>,

    /// Authenticate as this GitHub App (with --github-app-key and --github-installation-id)
    /// instead of with a token.
    #[arg(long, value_name = "ID", requires_all = ["github_app_key", "github_installation_id"])]
    pub github_app_id: Option<u64>,

    /// The GitHub App's private key (the PEM file GitHub generates).
    #[arg(long, value_name = "FILE", requires = "github_app_id")]
    pub github_app_key: Option<PathBuf>,

    /// The installation of the GitHub App to act as (in the URL of the installation's settings
    /// page).
    #[arg(long, value_name = "ID", requires = "github_app_id")]
    pub github_installation_id: Option<u64>,
}

impl GithubAuthArgs {
    /// The first auth flag given, for "needs --github" messages.
    pub fn first_given(&self) -> Option<&'static str> {
        if self.github_token_file.is_some() {
            Some("--github-token-file")
        } else if self.github_app_id.is_some() {
            Some("--github-app-id")
        } else if self.github_app_key.is_some() {
            Some("--github-app-key")
        } else if self.github_installation_id.is_some() {
            Some("--github-installation-id")
        } else {
            None
        }
    }

    /// The credentials, resolved by the library (App, token file, GITHUB_TOKEN, GH_TOKEN).
    pub fn resolve(&self) -> Result<sluice::github::GithubAuth, sluice::github::AuthError> {
        let app = match (
            self.github_app_id,
            &self.github_app_key,
            self.github_installation_id,
        ) {
            (Some(app_id), Some(key_file), Some(installation_id)) => {
                Some(sluice::github::AppSource {
                    app_id,
                    key_file: key_file.clone(),
                    installation_id,
                })
            }
            // clap requires all three together.
            _ => None,
        };
        sluice::github::GithubAuth::from_environment(
            self.github_token_file.as_deref(),
            app.as_ref(),
        )
    }
}

/// Configuration file and finding filters (issue 7).
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// Use this configuration file for every scanned root instead of looking for
    /// `.sluice.yml` (or `.github/.sluice.yml`) in each.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every `.sluice.yml`.
    #[arg(long)]
    pub no_config: bool,

    /// Leave out findings less sure than this.
    #[arg(long, value_enum, value_name = "CONFIDENCE")]
    pub min_confidence: Option<ConfidenceArg>,

    /// Report only this rule. Repeatable.
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,

    /// Do not report this rule. Repeatable.
    #[arg(long = "skip-rule", value_name = "ID")]
    pub skip_rules: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfidenceArg {
    Low,
    Medium,
    High,
}

impl From<ConfidenceArg> for sluice::pack::types::Confidence {
    fn from(c: ConfidenceArg) -> Self {
        use sluice::pack::types::Confidence;
        match c {
            ConfidenceArg::Low => Confidence::Low,
            ConfidenceArg::Medium => Confidence::Medium,
            ConfidenceArg::High => Confidence::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics with the source line.
    Table,
    /// Machine-readable JSON (`version`, `findings`, `errors`, `summary`).
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// A summary table and per-finding sections, for a pull-request comment.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for sluice::pack::types::Severity {
    fn from(s: SeverityArg) -> Self {
        use sluice::pack::types::Severity;
        match s {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Findings never fail the run (errors still exit 2).
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<sluice::pack::types::Severity> {
        let severity = match self {
            FailOn::Info => SeverityArg::Info,
            FailOn::Low => SeverityArg::Low,
            FailOn::Medium => SeverityArg::Medium,
            FailOn::High => SeverityArg::High,
            FailOn::Critical => SeverityArg::Critical,
            FailOn::Never => return None,
        };
        Some(severity.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}
