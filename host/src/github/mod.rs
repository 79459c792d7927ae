//! Reading repositories through the GitHub REST API instead of a clone (DESIGN §7).
//!
//! Built for two users: `sluice scan --github` and, later, the operator, which re-evaluates
//! many repositories every interval under GitHub's hourly request budget. So everything here is
//! frugal and shareable: one [`GithubClient`] (cheap to clone, `Send + Sync`) holds one
//! connection pool, one concurrency limit and one cache; a ref is resolved with a conditional
//! request, the tree of a commit is listed once, and only blobs some pack wants are fetched,
//! each by its immutable SHA.

mod cache;
mod client;
mod error;
mod fetch;
mod retry;
mod spec;
mod token;
mod tree;

pub use client::{DEFAULT_API_URL, GithubClient, GithubOptions, Stats};
pub use error::{GithubError, RepoError};
pub use fetch::{FetchedFile, FetchedRepo, LargeFile, fetch_repository};
pub use retry::RetryPolicy;
pub use spec::RepoSpec;
pub use token::Token;
pub use tree::TreeEntry;
