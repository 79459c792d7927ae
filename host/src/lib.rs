//! sluice: finds the CI/CD pipeline configurations that let an attacker run code or steal
//! credentials. The rules live in sandboxed WebAssembly rule packs; this crate is the host:
//! it collects files, runs packs and renders reports.

pub mod api;
pub mod config;
pub mod github;
pub mod operator;
pub mod pack;
pub mod report;
pub mod scan;
pub mod triage;
