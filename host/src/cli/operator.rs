//! `sluice operator`: its flags (each with an environment variable, for Deployments) and the
//! start-up that turns them into a running operator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use sluice::github::{GithubClient, GithubOptions, RetryPolicy};
use sluice::operator::leader::LeaseSettings;
use sluice::operator::{EnforcementMode, OperatorConfig, OperatorSettings, Scanner};
use sluice::pack::cache::CompileCache;
use sluice::scan::{ResultCache, ScanOptions};

use crate::cli::args::{GithubAuthArgs, PackArgs};
use crate::cli::units::parse_duration;

const OPERATOR_HELP: &str = "\
What it watches:
  Argo CD Applications, Flux GitRepositories and OCIRepositories, and Tekton Pipelines (each
  gets a PipelineSecurityReport in its namespace); Flux Kustomizations and HelmReleases for
  workload correlation. A kind whose CRD is not installed is skipped and picked up when the
  CRD appears.

Kubernetes access:
  In a cluster the pod's service account is used; elsewhere KUBECONFIG or ~/.kube/config
  (--kubeconfig and --context override). Install the CRDs first: `sluice crds | kubectl apply -f -`.

Examples:
  sluice operator --kubeconfig ~/.kube/config --health-addr 127.0.0.1:8081
  sluice operator --namespace argocd --namespace flux-system --leader-elect
  sluice operator --policy-reports        # also wgpolicyk8s.io PolicyReports (kubectl get polr -A)
  sluice operator restore-all --dry-run   # what uninstalling with enforcement on would leave
  kubectl get psr -A";

/// `sluice operator` flags.
#[derive(Debug, Args)]
#[command(
    after_long_help = OPERATOR_HELP,
    args_conflicts_with_subcommands = true,
    // The shared GitHub auth flags get variables here only: a Deployment sets them, while for
    // `sluice scan` a stray variable would turn a local scan into a usage error.
    mut_arg("github_token_file", |a| a.env("SLUICE_GITHUB_TOKEN_FILE")),
    mut_arg("github_app_id", |a| a.env("SLUICE_GITHUB_APP_ID")),
    mut_arg("github_app_key", |a| a.env("SLUICE_GITHUB_APP_KEY")),
    mut_arg("github_installation_id", |a| a.env("SLUICE_GITHUB_INSTALLATION_ID")),
)]
pub struct OperatorArgs {
    #[command(subcommand)]
    pub command: Option<OperatorCommand>,

    /// Watch only this namespace (repeatable, or comma-separated in the variable) [default:
    /// all namespaces].
    #[arg(
        long = "namespace",
        value_name = "NS",
        env = "SLUICE_NAMESPACES",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,

    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(
        long,
        value_name = "ADDR",
        env = "SLUICE_METRICS_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    pub metrics_addr: SocketAddr,

    /// Serve /healthz and /readyz at ADDR (ready once the watched kinds' caches are synced).
    #[arg(
        long,
        value_name = "ADDR",
        env = "SLUICE_HEALTH_ADDR",
        default_value = "0.0.0.0:8081"
    )]
    pub health_addr: SocketAddr,

    /// Run as one of several replicas: only the holder of a coordination.k8s.io Lease writes;
    /// a standby takes over when the holder stops renewing it.
    #[arg(long, env = "SLUICE_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Namespace of the Lease [default: the pod's namespace (POD_NAMESPACE), else `default`].
    #[arg(long, value_name = "NS", env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Name of the Lease.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "sluice-operator",
        env = "SLUICE_LEASE_NAME"
    )]
    pub lease_name: String,

    /// A leader that has not renewed the Lease for this long is replaced.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration, env = "SLUICE_LEASE_DURATION")]
    pub lease_duration: Duration,

    /// This replica's identity in the Lease and in Events [default: POD_NAME, else the host
    /// name, plus a random suffix].
    #[arg(long, value_name = "ID", env = "POD_NAME")]
    pub identity: Option<String>,

    /// Scans (fetch + packs) running at once.
    #[arg(long, value_name = "N", default_value_t = 4, env = "SLUICE_MAX_CONCURRENT_SCANS", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_scans: u16,

    /// Re-evaluate each subject this often when nothing changes (policies may set their own).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration, env = "SLUICE_DEFAULT_INTERVAL")]
    pub default_interval: Duration,

    /// Findings listed in a report, worst first; the rest are counted.
    #[arg(long, value_name = "N", default_value_t = 100, env = "SLUICE_FINDINGS_CAP", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub findings_cap: u32,

    /// Enforcement of the policies' `enforcement[]` actions (annotate, alert, suspendSync,
    /// labelWorkloads): `off` changes and sends nothing; `dry-run` records in each report and
    /// in Events what would be done; `on` does it, recording every change on the changed
    /// object so it is undone exactly (see `sluice operator restore-all`).
    #[arg(long, value_enum, default_value_t = EnforcementArg::Off, env = "SLUICE_ENFORCEMENT")]
    pub enforcement: EnforcementArg,

    /// Also write a wgpolicyk8s.io/v1alpha2 PolicyReport per subject (`sluice-<report name>`,
    /// one result per listed finding), for Policy Reporter and other wg-policy tools. Needs the
    /// PolicyReport CRD; without it nothing more than a log line happens.
    #[arg(long, env = "SLUICE_POLICY_REPORTS")]
    pub policy_reports: bool,

    /// Load every `*.wasm` rule pack in DIR, besides the built-in packs and --pack.
    #[arg(long, value_name = "DIR", env = "SLUICE_PACK_DIR")]
    pub pack_dir: Option<PathBuf>,

    /// The GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = sluice::github::DEFAULT_API_URL, env = "SLUICE_GITHUB_API_URL")]
    pub github_api_url: String,

    /// The Git host whose repositories are read through --github-api-url [default: github.com
    /// for api.github.com, else the API URL's host]. Repositories on any other host are
    /// reported `Unknown` (UnsupportedHost) and never requested.
    #[arg(long, value_name = "HOST", env = "SLUICE_GITHUB_HOST")]
    pub github_host: Option<String>,

    #[command(flatten)]
    pub auth: GithubAuthArgs,

    /// Give up on a GitHub request after DURATION (it is retried like a server error).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, env = "SLUICE_GITHUB_TIMEOUT")]
    pub github_timeout: Duration,

    /// Kubeconfig file [default: in-cluster, else KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE", env = "SLUICE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context [default: the current context].
    #[arg(long, value_name = "NAME", env = "SLUICE_KUBE_CONTEXT")]
    pub context: Option<String>,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "SLUICE_LOG_FORMAT")]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub packs: PackArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnforcementArg {
    Off,
    DryRun,
    On,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Commands beside running the operator.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Undo every enforcement sluice recorded in the cluster (before uninstalling).
    ///
    /// Each object with a `sluice.dev/enforcement` record gets back what it had (sync,
    /// suspend flags, labels, annotations) and loses the record. Fields a person changed since are left as they are.
    /// Run it before uninstalling with enforcement on, after scaling the operator to zero (a
    /// running operator would enforce again). Exits 2 if any object could not be restored.
    #[command(name = "restore-all")]
    RestoreAll(RestoreAllArgs),
}

/// `sluice operator restore-all` flags.
#[derive(Debug, Args)]
pub struct RestoreAllArgs {
    /// Print what would be restored; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Kubeconfig file [default: in-cluster, else KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE", env = "SLUICE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context [default: the current context].
    #[arg(long, value_name = "NAME", env = "SLUICE_KUBE_CONTEXT")]
    pub context: Option<String>,
}

/// Runs the operator until SIGTERM / Ctrl-C (or one of its commands).
pub fn operator(args: &OperatorArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    if let Some(OperatorCommand::RestoreAll(restore)) = &args.command {
        return runtime.block_on(restore_all(restore));
    }
    runtime.block_on(run(args))?;
    Ok(crate::cli::exit::CLEAN)
}

async fn run(args: &OperatorArgs) -> anyhow::Result<()> {
    let client = kube_client(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
    let mut pack_args = PackArgs {
        packs: args.packs.packs.clone(),
        pack_timeout: args.packs.pack_timeout,
        pack_memory: args.packs.pack_memory,
        cache_dir: args.packs.cache_dir.clone(),
        no_cache: args.packs.no_cache,
    };
    if let Some(dir) = &args.pack_dir {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the pack directory {}", dir.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        found.sort();
        pack_args.packs.extend(found);
    }
    let registry = crate::cli::commands::registry(&pack_args)?;
    for pack in registry.packs() {
        match &pack.info {
            Ok(info) => {
                tracing::info!(pack = %info.id, version = %info.version, "rule pack loaded")
            }
            Err(e) => tracing::error!(pack = %pack.source.label(), "rule pack unusable: {e}"),
        }
    }
    let cache_dir = if args.packs.no_cache {
        None
    } else {
        args.packs
            .cache_dir
            .clone()
            .or_else(CompileCache::default_dir)
    };
    let scan_options = ScanOptions {
        results: Some(ResultCache::new(cache_dir.as_deref())),
        ..ScanOptions::default()
    };
    let github = GithubClient::new(GithubOptions {
        api_url: args.github_api_url.clone(),
        auth: args.auth.resolve()?,
        cache_dir,
        timeout: args.github_timeout,
        retry: RetryPolicy::default(),
        ..GithubOptions::default()
    })?;
    let host = match &args.github_host {
        Some(host) => host.to_ascii_lowercase(),
        None => github_host(&args.github_api_url),
    };
    let scanner = Scanner::new(
        Arc::new(registry),
        github,
        scan_options,
        usize::from(args.max_concurrent_scans),
    );
    let identity = format!(
        "{}-{:08x}",
        args.identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "sluice".to_owned()),
        rand_suffix()
    );
    let settings = OperatorSettings {
        namespaces: args.namespaces.clone(),
        default_interval: args.default_interval,
        findings_cap: args.findings_cap as usize,
        github_hosts: vec![host],
        enforcement: match args.enforcement {
            EnforcementArg::Off => EnforcementMode::Off,
            EnforcementArg::DryRun => EnforcementMode::DryRun,
            EnforcementArg::On => EnforcementMode::On,
        },
        reconcile_concurrency: args.max_concurrent_scans.saturating_mul(4),
        operator_namespace: args.lease_namespace.clone(),
        policy_reports: args.policy_reports,
        ..OperatorSettings::default()
    };
    let lease = args.leader_elect.then(|| LeaseSettings {
        namespace: args
            .lease_namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        name: args.lease_name.clone(),
        identity: identity.clone(),
        duration: args.lease_duration,
        retry: (args.lease_duration / 5).max(Duration::from_millis(200)),
    });
    let config = OperatorConfig {
        settings,
        identity,
        lease,
        metrics_addr: Some(args.metrics_addr),
        health_addr: Some(args.health_addr),
    };
    let (handle, run) = sluice::operator::start(client, scanner, config, shutdown_signal()).await?;
    tracing::info!(
        metrics = ?handle.metrics_addr,
        health = ?handle.health_addr,
        "operator started"
    );
    run.await;
    Ok(())
}

async fn restore_all(args: &RestoreAllArgs) -> anyhow::Result<u8> {
    let client = kube_client(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
    let summary = sluice::operator::enforce::restore_all::restore_all(&client, args.dry_run).await;
    let verb = if args.dry_run {
        "would restore"
    } else {
        "restored"
    };
    for line in &summary.restored {
        println!("{verb} {line}");
    }
    for line in &summary.left {
        println!("left as a person changed it: {line}");
    }
    for error in &summary.errors {
        eprintln!("error: {error}");
    }
    if summary.restored.is_empty() && summary.left.is_empty() && summary.errors.is_empty() {
        println!("nothing recorded: no object carries a sluice enforcement record");
    }
    Ok(if summary.errors.is_empty() {
        crate::cli::exit::CLEAN
    } else {
        crate::cli::exit::ERROR
    })
}

async fn kube_client(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> anyhow::Result<kube::Client> {
    let config = if kubeconfig.is_some() || context.is_some() {
        let kubeconfig = match kubeconfig {
            Some(path) => kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?,
            None => kube::config::Kubeconfig::read().context("cannot read the kubeconfig")?,
        };
        let options = kube::config::KubeConfigOptions {
            context: context.map(str::to_owned),
            ..Default::default()
        };
        kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .context("the kubeconfig is not usable")?
    } else {
        kube::Config::infer()
            .await
            .context("no Kubernetes configuration (not in a cluster, and no usable kubeconfig)")?
    };
    kube::Client::try_from(config).context("cannot create the Kubernetes client")
}

/// `github.com` for the public API, else the API URL's host (GitHub Enterprise Server).
fn github_host(api_url: &str) -> String {
    let rest = api_url.split_once("://").map_or(api_url, |(_, r)| r);
    let host = rest
        .split(['/', ':'])
        .next()
        .unwrap_or(rest)
        .to_ascii_lowercase();
    if host == "api.github.com" {
        "github.com".to_owned()
    } else {
        host
    }
}

fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    nanos ^ std::process::id().rotate_left(16)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}

/// Logging for the operator: info by default, JSON with --log-format json.
pub fn init_tracing(format: LogFormat, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("SLUICE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_github_host_follows_the_api_url() {
        assert_eq!(github_host("https://api.github.com"), "github.com");
        assert_eq!(
            github_host("https://ghe.corp.example/api/v3"),
            "ghe.corp.example"
        );
        assert_eq!(github_host("http://127.0.0.1:8080"), "127.0.0.1");
    }
}
