//! Argument parsing and the commands. `anyhow` lives here, at the binary's edge only.

mod args;
mod commands;
mod crds;
mod github;
mod operator;
mod units;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Exit codes, documented in `--help`.
pub mod exit {
    /// Nothing at or above `--fail-on`.
    pub const CLEAN: u8 = 0;
    /// Findings at or above `--fail-on`.
    pub const FINDINGS: u8 = 1;
    /// Usage, I/O or pack errors, or nothing to scan: the result cannot be trusted.
    pub const ERROR: u8 = 2;
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::ERROR
            } else {
                exit::CLEAN
            });
        }
    };
    match &cli.command {
        Command::Operator(args) => operator::init_tracing(args.log_format, cli.verbose),
        _ => init_tracing(cli.verbose),
    }
    let outcome = match &cli.command {
        Command::Scan(args) => commands::scan(args),
        Command::Packs(args) => commands::packs(args),
        Command::Rules(args) => commands::rules(args),
        Command::Explain(args) => commands::explain(args),
        Command::Crds(args) => crds::crds(args),
        Command::Operator(args) => operator::operator(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("SLUICE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
