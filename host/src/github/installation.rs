//! GitHub App installation tokens: a JWT signed with the App's key buys an installation token
//! (`POST /app/installations/{id}/access_tokens`), valid for an hour. One token serves every
//! request of a client and its clones; it is renewed five minutes before it expires, by the
//! first request that finds it stale, while the others wait for that one answer.

use http::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use serde::Deserialize;

use crate::github::auth::AppKey;
use crate::github::client::bearer;
use crate::github::retry::{self, Retry};
use crate::github::{GithubClient, GithubError, Token};

/// Renew this long before `expires_at`, so no request goes out with a token about to lapse.
const REFRESH_MARGIN_SECS: u64 = 5 * 60;
/// GitHub's documented lifetime, for an `expires_at` we cannot read.
const DEFAULT_LIFETIME_SECS: u64 = 60 * 60;

/// The App credentials and the current installation token.
pub(crate) struct Installation {
    app_id: u64,
    key: AppKey,
    installation_id: u64,
    current: tokio::sync::Mutex<Option<Issued>>,
}

struct Issued {
    token: Token,
    /// Unix time.
    expires_at: u64,
}

#[derive(Deserialize)]
struct AccessTokenAnswer {
    token: String,
    #[serde(default)]
    expires_at: Option<String>,
}

impl Installation {
    pub(crate) fn new(app_id: u64, key: AppKey, installation_id: u64) -> Installation {
        Installation {
            app_id,
            key,
            installation_id,
            current: tokio::sync::Mutex::new(None),
        }
    }
}

impl GithubClient {
    /// The installation token, renewed when it is missing or within five minutes of expiry.
    pub(crate) async fn installation_token(
        &self,
        installation: &Installation,
    ) -> Result<Token, GithubError> {
        let mut current = installation.current.lock().await;
        let now = retry::now();
        if let Some(issued) = current.as_ref()
            && issued.expires_at > now + REFRESH_MARGIN_SECS
        {
            return Ok(issued.token.clone());
        }
        let rejected = |status: u16| GithubError::AppRejected {
            status,
            app_id: installation.app_id,
            installation_id: installation.installation_id,
        };
        let path = format!(
            "/app/installations/{}/access_tokens",
            installation.installation_id
        );
        // Server errors and dropped connections are retried as for any request; a fresh JWT
        // each time, since a long back-off could outlast one.
        let mut attempts = 0;
        let body = loop {
            attempts += 1;
            let jwt = installation
                .key
                .jwt(installation.app_id, retry::now())
                .map_err(|message| GithubError::InvalidResponse {
                    endpoint: "app JWT".to_owned(),
                    message,
                })?;
            let mut headers = HeaderMap::new();
            headers.insert(
                ACCEPT,
                crate::github::client::header_value("application/vnd.github+json")?,
            );
            headers.insert(AUTHORIZATION, bearer(&jwt).map_err(|(e, _)| e)?);
            let (error, transient) = match self.post("access_tokens", &path, headers).await {
                Ok((200..=299, body)) => break body,
                Ok((status @ (401 | 403 | 404), _)) => return Err(rejected(status)),
                Ok((status, _)) => (
                    GithubError::Status {
                        status,
                        endpoint: path.clone(),
                        message: String::new(),
                    },
                    status >= 500,
                ),
                Err(error @ GithubError::Transport { .. }) => (error, true),
                Err(error) => return Err(error),
            };
            let wait = transient
                .then(|| {
                    self.retry_policy()
                        .wait(Retry::Backoff, attempts, retry::now())
                })
                .flatten();
            let Some(wait) = wait else {
                return Err(error);
            };
            self.stats()
                .retries
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(
                "POST {path}: {error}; trying again in {:.1}s",
                wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
        };
        let answer: AccessTokenAnswer =
            serde_json::from_str(&body).map_err(|e| GithubError::InvalidResponse {
                endpoint: path.clone(),
                message: format!("no installation token in the answer: {e}"),
            })?;
        let token = Token::new(&answer.token).ok_or_else(|| GithubError::InvalidResponse {
            endpoint: path.clone(),
            message: "the installation token is empty".to_owned(),
        })?;
        let expires_at = answer
            .expires_at
            .as_deref()
            .and_then(parse_utc)
            .unwrap_or(now + DEFAULT_LIFETIME_SECS);
        tracing::debug!(
            "GitHub App {}: installation token issued, valid for {}s",
            installation.app_id,
            expires_at.saturating_sub(now)
        );
        *current = Some(Issued {
            token: token.clone(),
            expires_at,
        });
        Ok(token)
    }
}

/// `2016-07-11T22:14:10Z` as Unix time (GitHub always answers in UTC with a `Z`).
fn parse_utc(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let mut time = time
        .splitn(3, ':')
        .map(|p| p.split('.').next().map(str::parse::<i64>));
    let (hour, minute, second) = (
        time.next()??.ok()?,
        time.next()??.ok()?,
        time.next()??.ok()?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn github_timestamps() {
        // `date -u -d 2016-07-11T22:14:10Z +%s`
        assert_eq!(
            super::parse_utc("2016-07-11T22:14:10Z"),
            Some(1_468_275_250)
        );
        assert_eq!(
            super::parse_utc("2024-02-29T00:00:00Z"),
            Some(1_709_164_800)
        );
        assert_eq!(super::parse_utc("2024-02-29T00:00:00"), None);
        assert_eq!(super::parse_utc("yesterday"), None);
    }
}
