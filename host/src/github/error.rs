//! What can go wrong talking to GitHub. Messages say what the user can do about it and never
//! contain the token (requests carry it in a header that no error formats).

/// A failed request or an unusable answer.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("`{spec}` is not a repository: {why}")]
    BadSpec { spec: String, why: String },
    #[error(
        "`{org}` is not an organisation name: it may contain only letters, digits, `-`, `_` and `.`"
    )]
    BadOrg { org: String },
    #[error("repository or ref not found (is the token allowed to read it?)")]
    NotFound,
    #[error(
        "GitHub rejected the credentials (401 Bad credentials): check GITHUB_TOKEN, GH_TOKEN or --github-token-file"
    )]
    BadCredentials,
    #[error(
        "GitHub rejected the GitHub App credentials ({status} from access_tokens): check the App id ({app_id}), the installation id ({installation_id}) and the App's private key (--github-app-id, --github-installation-id, --github-app-key)"
    )]
    AppRejected {
        status: u16,
        app_id: u64,
        installation_id: u64,
    },
    #[error("GitHub API rate limit exceeded ({status}){}", reset_note(*.reset))]
    RateLimited { status: u16, reset: Option<u64> },
    #[error("GitHub refused access (403 Forbidden){}", message_note(.message))]
    Forbidden { message: String },
    #[error("GitHub answered {status} for {endpoint}{}", message_note(.message))]
    Status {
        status: u16,
        endpoint: String,
        message: String,
    },
    #[error(
        "GitHub redirected to `{location}`, which is not under the API URL (or redirects too often); not followed"
    )]
    Redirected { location: String },
    #[error("cannot reach the GitHub API at {api_url}: {message}")]
    Transport { api_url: String, message: String },
    #[error("unexpected answer from {endpoint}: {message}")]
    InvalidResponse { endpoint: String, message: String },
    #[error("invalid GitHub API URL `{url}`: {message}")]
    BadApiUrl { url: String, message: String },
}

impl GithubError {
    /// A short machine-readable name, for the `reason` of a report's error entry.
    pub fn reason(&self) -> &'static str {
        match self {
            GithubError::BadSpec { .. } | GithubError::BadOrg { .. } => "bad-spec",
            GithubError::NotFound => "not-found",
            GithubError::BadCredentials | GithubError::AppRejected { .. } => "bad-credentials",
            GithubError::RateLimited { .. } => "rate-limited",
            GithubError::Forbidden { .. } => "forbidden",
            GithubError::Status { .. } => "http-status",
            GithubError::Redirected { .. } => "redirected",
            GithubError::Transport { .. } => "transport",
            GithubError::InvalidResponse { .. } => "invalid-response",
            GithubError::BadApiUrl { .. } => "bad-api-url",
        }
    }
}

fn reset_note(reset: Option<u64>) -> String {
    match reset {
        Some(epoch) => format!("; it resets at {epoch} (Unix time)"),
        None => String::new(),
    }
}

fn message_note(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// A [`GithubError`] for one repository of the scan.
#[derive(Debug, thiserror::Error)]
#[error("{spec}: {error}")]
pub struct RepoError {
    pub spec: String,
    #[source]
    pub error: GithubError,
}
