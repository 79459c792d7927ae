//! Reading repositories through the GitHub REST API instead of a clone (DESIGN §7).
//!
//! Built for two users: `sluice scan --github` and, later, the operator, which re-evaluates
//! many repositories every interval under GitHub's hourly request budget. So everything here is
//! frugal and shareable: one [`GithubClient`] (cheap to clone, `Send + Sync`) holds one
//! connection pool, one concurrency limit and one cache; a ref is resolved with a conditional
//! request, the tree of a commit is listed once, and only blobs some pack wants are fetched,
//! each by its immutable SHA.

mod auth;
pub(crate) mod cache;
mod client;
mod error;
mod fetch;
mod installation;
mod org;
mod retry;
mod spec;
mod token;
mod tree;

pub use auth::{AppKey, AppSource, AuthError, GithubAuth};
pub use client::{DEFAULT_API_URL, GithubClient, GithubOptions, Stats};
pub use error::{GithubError, RepoError};
pub use fetch::{FetchedFile, FetchedRepo, LargeFile, fetch_repository, resolve_commit};
pub use org::{OrgRepos, list_org_repos};
pub use retry::RetryPolicy;
pub use spec::RepoSpec;
pub use token::Token;
pub use tree::TreeEntry;

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
    fn sendable<T: Send>(_: &T) {}

    /// The operator drives many fetches from a multi-threaded runtime through one client.
    #[test]
    fn the_client_and_its_fetches_cross_threads() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _inside = runtime.enter();
        let client = GithubClient::new(GithubOptions::default()).expect("client");
        shareable(&client);
        let spec = RepoSpec::parse("octo/app").expect("valid");
        // Built, never polled: only its type is checked.
        let fetch = fetch_repository(&client, &spec, |_: &str| true, 1024);
        sendable(&fetch);
    }
}
