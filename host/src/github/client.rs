//! One connection pool, one concurrency limit, one cache: the handle every fetch goes through.
//!
//! Requests go through octocrab's raw `_get_with_headers`, which lets us send `If-None-Match`
//! and read the status and headers ourselves (its typed calls turn a 304 into an error and hide
//! the ETag). Paths are given without scheme and host so that octocrab's base-URI layer adds
//! the configured API URL (with its `/api/v3` prefix on GitHub Enterprise Server) and its
//! authentication, which it only attaches to requests for that base.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH, LOCATION};
use octocrab::Octocrab;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::github::cache::{Cache, Etagged, key};
use crate::github::installation::Installation;
use crate::github::retry::{self, Retry, RetryPolicy, SECONDARY_DEFAULT};
use crate::github::{GithubAuth, GithubError};

/// Redirects followed for one request (a rename, then perhaps a transfer).
const MAX_REDIRECTS: u32 = 3;

/// github.com's REST API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How to reach GitHub.
#[derive(Debug, Clone)]
pub struct GithubOptions {
    /// REST API base: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise
    /// Server.
    pub api_url: String,
    pub auth: GithubAuth,
    /// The sluice cache directory; responses go into its `github/` subdirectory. `None`: memory
    /// only.
    pub cache_dir: Option<PathBuf>,
    /// Requests in flight at once, over every repository using this client.
    pub concurrency: usize,
    /// Connect and read timeout of each request.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for GithubOptions {
    fn default() -> Self {
        GithubOptions {
            api_url: DEFAULT_API_URL.to_owned(),
            auth: GithubAuth::Anonymous,
            cache_dir: None,
            concurrency: 8,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// Counters for the operator's metrics and the CLI's summary.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Of those, requests carrying `If-None-Match`.
    pub conditional: AtomicU64,
    /// Answers 304 Not Modified (free under GitHub's rate limit).
    pub not_modified: AtomicU64,
    /// Attempts repeated after a transient failure or a rate limit.
    pub retries: AtomicU64,
    /// The last `X-RateLimit-Remaining` seen, or -1.
    pub rate_limit_remaining: AtomicI64,
    /// Requests by (endpoint kind, status).
    pub by_endpoint: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

/// A GitHub API client. Clones share the pool, the limit, the cache and the counters.
#[derive(Clone)]
pub struct GithubClient {
    inner: Arc<Inner>,
}

struct Inner {
    octocrab: Octocrab,
    api_url: String,
    limit: Semaphore,
    cache: Cache,
    stats: Stats,
    retry: RetryPolicy,
    /// GitHub App auth: the installation token, shared by every clone. `None`: octocrab sends
    /// the token, if any, itself.
    installation: Option<Installation>,
    /// Set by a rate limit: no request of this client is sent before it.
    paused_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubClient")
            .field("api_url", &self.inner.api_url)
            .finish_non_exhaustive()
    }
}

/// One GET, as every attempt sends it.
struct Request<'r> {
    endpoint: &'static str,
    path: &'r str,
    request_key: &'r str,
    conditional: bool,
    cached: Option<&'r Etagged>,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: String,
    /// The `Link: <…>; rel="next"` address of a paginated answer, as sent.
    pub next: Option<String>,
}

impl GithubClient {
    /// Must be called inside a Tokio runtime: octocrab spawns its connection workers there.
    pub fn new(options: GithubOptions) -> Result<GithubClient, GithubError> {
        let api_url = options.api_url.trim_end_matches('/').to_owned();
        let bad_url = |message: String| GithubError::BadApiUrl {
            url: options.api_url.clone(),
            message,
        };
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(bad_url("expected an http:// or https:// URL".to_owned()));
        }
        let mut builder = Octocrab::builder()
            .base_uri(api_url.as_str())
            .map_err(|e| bad_url(e.to_string()))?
            .set_connect_timeout(Some(options.timeout))
            .set_read_timeout(Some(options.timeout))
            .set_write_timeout(Some(options.timeout));
        let mut installation = None;
        match &options.auth {
            GithubAuth::Anonymous => {}
            GithubAuth::Token(token) => {
                builder = builder.personal_token(token.expose().to_owned());
            }
            GithubAuth::App {
                app_id,
                key,
                installation_id,
            } => installation = Some(Installation::new(*app_id, key.clone(), *installation_id)),
        }
        let octocrab = builder.build().map_err(|e| bad_url(e.to_string()))?;
        let cache = Cache::new(options.cache_dir.as_deref(), &api_url);
        let stats = Stats::default();
        stats.rate_limit_remaining.store(-1, Ordering::Relaxed);
        Ok(GithubClient {
            inner: Arc::new(Inner {
                octocrab,
                api_url,
                limit: Semaphore::new(options.concurrency.max(1)),
                cache,
                stats,
                retry: options.retry,
                installation,
                paused_until: Mutex::new(None),
            }),
        })
    }

    pub fn api_url(&self) -> &str {
        &self.inner.api_url
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// GET `path` (starting with `/`, relative to the API URL). With `conditional`, a cached
    /// ETag is sent as `If-None-Match` and a 304 replays the cached body; a fresh answer with
    /// an ETag is cached for next time. Transient failures and rate limits are retried as the
    /// [`RetryPolicy`] allows.
    pub(crate) async fn get(
        &self,
        endpoint: &'static str,
        path: &str,
        accept: &str,
        conditional: bool,
    ) -> Result<Answer, GithubError> {
        let request_key = key(&[path, accept]);
        let cached = if conditional {
            self.inner.cache.etagged(&request_key)
        } else {
            None
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, header_value(accept)?);
        if let Some(entry) = &cached {
            headers.insert(IF_NONE_MATCH, header_value(&entry.etag)?);
        }
        let mut path = path.to_owned();
        let mut redirects = 0;
        let mut attempts = 0;
        loop {
            let request = Request {
                endpoint,
                path: &path,
                request_key: &request_key,
                conditional,
                cached: cached.as_deref(),
            };
            attempts += 1;
            let (error, retry) = match self.send(&request, headers.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(failed) => failed,
            };
            // A renamed or transferred repository answers 301 with its new address; follow it
            // while it stays under the API URL, where the token belongs.
            if let GithubError::Redirected { location } = &error
                && redirects < MAX_REDIRECTS
                && let Some(relative) = self.under_api_url(location)
            {
                tracing::info!("GET {path}: moved to {relative}");
                redirects += 1;
                attempts -= 1;
                path = relative;
                continue;
            }
            let Some(wait) = self.inner.retry.wait(retry, attempts, retry::now()) else {
                return Err(error);
            };
            self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            if matches!(retry, Retry::After(_) | Retry::Reset(_)) {
                // A rate limit is the account's, not this request's: every request of this
                // client holds off, instead of each finding out with a 403 of its own (GitHub
                // treats requests that keep coming during a secondary limit as abuse).
                self.pause_all(wait);
            }
            tracing::warn!(
                "GET {path}: {error}; trying again in {:.1}s",
                wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
        }
    }

    fn paused_until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // Only an instant is behind the lock; a panic elsewhere leaves it valid.
        self.inner
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Holds every request of this client back for `wait` from now (or longer, if already).
    fn pause_all(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until();
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// `location` as a path relative to the API URL, if it is under it.
    pub(crate) fn under_api_url(&self, location: &str) -> Option<String> {
        let rest = location.strip_prefix(self.inner.api_url.as_str())?;
        rest.starts_with('/').then(|| rest.to_owned())
    }

    /// One attempt. A failure comes with what it allows.
    async fn send(
        &self,
        request: &Request<'_>,
        mut headers: HeaderMap,
    ) -> Result<Answer, (GithubError, Retry)> {
        let stats = &self.inner.stats;
        let transport = |e: String| (self.transport(e), Retry::Backoff);
        if let Some(installation) = &self.inner.installation {
            // Before taking a request permit: renewing the token needs one of its own.
            let token = self
                .installation_token(installation)
                .await
                .map_err(|e| (e, Retry::Never))?;
            headers.insert(AUTHORIZATION, bearer(token.expose())?);
        }
        let paused_until = *self.paused_until();
        if let Some(until) = paused_until
            && until > Instant::now()
        {
            tokio::time::sleep_until(until).await;
        }
        let response = {
            let _permit = self.inner.limit.acquire().await.map_err(|_| {
                (
                    self.transport("the request limiter was closed".to_owned()),
                    Retry::Never,
                )
            })?;
            stats.requests.fetch_add(1, Ordering::Relaxed);
            if request.cached.is_some() {
                stats.conditional.fetch_add(1, Ordering::Relaxed);
            }
            tracing::debug!(
                "GET {}{}",
                request.path,
                if request.cached.is_some() {
                    " (conditional)"
                } else {
                    ""
                }
            );
            self.inner
                .octocrab
                ._get_with_headers(request.path, Some(headers))
                .await
                .map_err(|e| transport(e.to_string()))?
        };
        let status = response.status().as_u16();
        if let Ok(mut counts) = stats.by_endpoint.lock() {
            *counts.entry((request.endpoint, status)).or_default() += 1;
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.parse::<i64>().ok());
        if let Some(remaining) = remaining {
            stats
                .rate_limit_remaining
                .store(remaining, Ordering::Relaxed);
        }
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
        // Only the seconds form: GitHub does not send HTTP dates here.
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let etag = header(ETAG.as_str());
        let next = header("link").as_deref().and_then(next_link);
        if matches!(status, 301 | 302 | 307 | 308) {
            let location = header(LOCATION.as_str()).unwrap_or_default();
            return Err((GithubError::Redirected { location }, Retry::Never));
        }
        if status == 304
            && let Some(entry) = request.cached
        {
            stats.not_modified.fetch_add(1, Ordering::Relaxed);
            return Ok(Answer {
                body: entry.body.clone(),
                next: entry.next.clone(),
            });
        }
        let body = self
            .inner
            .octocrab
            .body_to_string(response)
            .await
            .map_err(|e| transport(e.to_string()))?;
        if (200..300).contains(&status) {
            if request.conditional
                && let Some(etag) = etag
            {
                self.inner.cache.put_etagged(
                    request.request_key,
                    Etagged {
                        etag,
                        body: body.clone(),
                        next: next.clone(),
                    },
                );
            }
            return Ok(Answer { body, next });
        }
        let message = github_message(&body);
        let limited = GithubError::RateLimited { status, reset };
        Err(match status {
            404 => (GithubError::NotFound, Retry::Never),
            401 => (GithubError::BadCredentials, Retry::Never),
            403 | 429 if retry_after.is_some() => (
                limited,
                Retry::After(retry_after.unwrap_or(SECONDARY_DEFAULT)),
            ),
            403 | 429 if remaining == Some(0) => match reset {
                Some(at) => (limited, Retry::Reset(at)),
                None => (limited, Retry::Never),
            },
            403 | 429
                if status == 429
                    || message
                        .to_ascii_lowercase()
                        .contains("secondary rate limit") =>
            {
                (limited, Retry::After(SECONDARY_DEFAULT))
            }
            403 if message.to_ascii_lowercase().contains("rate limit") => (limited, Retry::Never),
            403 => (GithubError::Forbidden { message }, Retry::Never),
            _ => (
                GithubError::Status {
                    status,
                    endpoint: request.path.to_owned(),
                    message,
                },
                if status >= 500 {
                    retry_after.map_or(Retry::Backoff, Retry::After)
                } else {
                    Retry::Never
                },
            ),
        })
    }

    /// One POST with an empty body, counted like every request, not retried: the status and
    /// body, whatever they are.
    pub(crate) async fn post(
        &self,
        endpoint: &'static str,
        path: &str,
        headers: HeaderMap,
    ) -> Result<(u16, String), GithubError> {
        let stats = &self.inner.stats;
        let octocrab = &self.inner.octocrab;
        let response = {
            let _permit = self
                .inner
                .limit
                .acquire()
                .await
                .map_err(|_| self.transport("the request limiter was closed".to_owned()))?;
            stats.requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("POST {path}");
            let mut builder = http::Request::builder()
                .method(http::Method::POST)
                .uri(path);
            for (name, value) in &headers {
                builder = builder.header(name, value);
            }
            let request = octocrab
                .build_request(builder, None::<&()>)
                .map_err(|e| self.transport(e.to_string()))?;
            octocrab
                .execute(request)
                .await
                .map_err(|e| self.transport(e.to_string()))?
        };
        let status = response.status().as_u16();
        if let Ok(mut counts) = stats.by_endpoint.lock() {
            *counts.entry((endpoint, status)).or_default() += 1;
        }
        let body = octocrab
            .body_to_string(response)
            .await
            .map_err(|e| self.transport(e.to_string()))?;
        Ok((status, body))
    }

    fn transport(&self, message: String) -> GithubError {
        GithubError::Transport {
            api_url: self.inner.api_url.clone(),
            message,
        }
    }
}

/// An `Authorization: Bearer` value, marked sensitive so that no HTTP layer logs it.
pub(crate) fn bearer(secret: &str) -> Result<HeaderValue, (GithubError, Retry)> {
    let mut value = HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
        (
            GithubError::InvalidResponse {
                endpoint: "authorization".to_owned(),
                message: "the credential is not a valid header value".to_owned(),
            },
            Retry::Never,
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

pub(crate) fn header_value(text: &str) -> Result<HeaderValue, GithubError> {
    HeaderValue::from_str(text).map_err(|e| GithubError::InvalidResponse {
        endpoint: "cache".to_owned(),
        message: format!("unusable header value: {e}"),
    })
}

/// The `rel="next"` address of a `Link` header (`<url>; rel="next", <url>; rel="last"`).
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == r#"rel="next""#)
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

/// GitHub's `{"message": …}`, shortened: it is shown to the user as it is.
fn github_message(body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_default();
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// When each request arrived, and its path.
    type Arrivals = Arc<Mutex<Vec<(std::time::Instant, String)>>>;

    /// A server that answers its first request with a secondary rate limit (`Retry-After: 1`)
    /// and every other with a SHA, recording when each arrived.
    fn limited_server() -> (String, Arrivals) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&arrivals);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(8) {
                let Ok(stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut writer = stream;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                        while reader.read_line(&mut line).unwrap_or(0) > 0
                            && !line.ends_with("\r\n\r\n")
                        {}
                        let first = {
                            let mut seen = seen.lock().expect("arrivals");
                            seen.push((std::time::Instant::now(), path));
                            seen.len() == 1
                        };
                        let (status, extra, body) = if first {
                            (
                                "403 Forbidden",
                                "retry-after: 1\r\n",
                                r#"{"message":"secondary rate limit"}"#.to_owned(),
                            )
                        } else {
                            (
                                "200 OK",
                                "",
                                "0123456789012345678901234567890123456789".to_owned(),
                            )
                        };
                        let answer = format!(
                            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{extra}\r\n{body}",
                            body.len()
                        );
                        if writer.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, arrivals)
    }

    #[test]
    fn next_links() {
        let link = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        assert_eq!(
            next_link(r#"<https://x/?page=1>; rel="prev", <https://x/?page=1>; rel="first""#),
            None
        );
    }

    #[test]
    fn a_secondary_limit_holds_back_every_request_of_the_client() {
        let (url, arrivals) = limited_server();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let client = GithubClient::new(GithubOptions {
                api_url: url,
                ..GithubOptions::default()
            })
            .expect("client");
            let first = {
                let client = client.clone();
                tokio::spawn(async move { client.get("t", "/first", "text/plain", false).await })
            };
            // The second request starts while the first waits out its limit.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let second = client.get("t", "/second", "text/plain", false).await;
            assert!(second.is_ok(), "{second:?}");
            assert!(first.await.expect("task").is_ok());
        });
        let arrivals = arrivals.lock().expect("arrivals");
        let limited_at = arrivals[0].0;
        let second = arrivals
            .iter()
            .find(|(_, path)| path == "/second")
            .expect("second request arrived");
        assert!(
            second.0.duration_since(limited_at) >= Duration::from_millis(900),
            "the second request did not wait for the limit: {:?}",
            second.0.duration_since(limited_at)
        );
    }
}
