//! Every rule of the pack, one module each, with its metadata beside its code.

pub mod fg001_pwn_request;
pub mod fg002_script_injection;
pub mod fg003_unpinned_action;

use sluice_pack_sdk::{Finding, RuleMeta};

use crate::model::Definition;

/// Metadata of every rule, in id order.
pub const ALL: &[RuleMeta] = &[
    fg001_pwn_request::META,
    fg002_script_injection::META,
    fg003_unpinned_action::META,
];

/// One recognised file, as rules see it.
#[derive(Debug)]
pub struct FileContext<'f, 'a> {
    /// Repository-relative path, for findings.
    pub path: &'f str,
    pub definition: &'f Definition<'a>,
}

/// Runs every rule over one file.
pub fn check(file: &FileContext<'_, '_>, findings: &mut Vec<Finding>) {
    fg001_pwn_request::check(file, findings);
    fg002_script_injection::check(file, findings);
    fg003_unpinned_action::check(file, findings);
}
