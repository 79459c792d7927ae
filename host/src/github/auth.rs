//! Who the client is to GitHub: nobody, a token, or a GitHub App installation.
//!
//! The CLI and the operator resolve their credentials here, from the same sources in the same
//! order, so "GitHub auth exactly as in the CLI" holds by construction. Secrets (token, App
//! key, JWT, installation token) never reach a `Debug`, `Display` or log line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::github::Token;

/// How requests are authenticated.
#[derive(Debug, Clone, Default)]
pub enum GithubAuth {
    /// No credentials: public repositories only, 60 requests an hour.
    #[default]
    Anonymous,
    /// A personal access token or an Actions `GITHUB_TOKEN`.
    Token(Token),
    /// A GitHub App acting as one of its installations: the client signs a JWT with the App's
    /// key, trades it for an installation token and renews that before it expires.
    App {
        app_id: u64,
        key: AppKey,
        installation_id: u64,
    },
}

/// Where the GitHub App credentials come from (`--github-app-id`, `--github-app-key`,
/// `--github-installation-id`).
#[derive(Debug, Clone)]
pub struct AppSource {
    pub app_id: u64,
    pub key_file: PathBuf,
    pub installation_id: u64,
}

/// Why the credentials could not be loaded. Messages name the file or the variable, never the
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the GitHub token file {}: {source}", .path.display())]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the GitHub token file {} is empty", .path.display())]
    EmptyTokenFile { path: PathBuf },
    #[error("cannot read the GitHub App key file {}: {source}", .path.display())]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the GitHub App key file {} is not a PEM RSA private key ({message})", .path.display())]
    NotRsaKey { path: PathBuf, message: String },
    #[error("a token file and GitHub App credentials exclude each other")]
    Conflicting,
}

impl GithubAuth {
    /// The credentials, in order: App credentials, else the token file, else `GITHUB_TOKEN`,
    /// else `GH_TOKEN` (read through `env`, so callers and tests choose the environment),
    /// else anonymous.
    pub fn from_sources(
        token_file: Option<&Path>,
        app: Option<&AppSource>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GithubAuth, AuthError> {
        match (token_file, app) {
            (Some(_), Some(_)) => Err(AuthError::Conflicting),
            (None, Some(app)) => Ok(GithubAuth::App {
                app_id: app.app_id,
                key: AppKey::from_file(&app.key_file)?,
                installation_id: app.installation_id,
            }),
            (Some(path), None) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| AuthError::TokenFile {
                        path: path.to_owned(),
                        source,
                    })?;
                Token::new(&text)
                    .map(GithubAuth::Token)
                    .ok_or_else(|| AuthError::EmptyTokenFile {
                        path: path.to_owned(),
                    })
            }
            (None, None) => Ok(["GITHUB_TOKEN", "GH_TOKEN"]
                .iter()
                .filter_map(|var| env(var))
                .find_map(|value| Token::new(&value))
                .map_or(GithubAuth::Anonymous, GithubAuth::Token)),
        }
    }

    /// [`from_sources`](Self::from_sources) with the process environment.
    pub fn from_environment(
        token_file: Option<&Path>,
        app: Option<&AppSource>,
    ) -> Result<GithubAuth, AuthError> {
        GithubAuth::from_sources(token_file, app, |var| std::env::var(var).ok())
    }
}

/// A GitHub App's private key, ready to sign. Its `Debug` names only the file.
#[derive(Clone)]
pub struct AppKey {
    key: Arc<EncodingKey>,
    path: PathBuf,
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppKey({}, <redacted>)", self.path.display())
    }
}

#[derive(Serialize)]
struct Claims {
    iat: u64,
    exp: u64,
    iss: String,
}

/// GitHub accepts App JWTs for at most ten minutes; nine leaves room for clock drift.
const JWT_LIFETIME_SECS: u64 = 9 * 60;
/// Backdated so that a server clock slightly behind ours does not see a token from the future.
const JWT_BACKDATE_SECS: u64 = 60;

impl AppKey {
    /// Reads a PEM RSA private key (PKCS#1, as GitHub issues it, or PKCS#8). A test signature
    /// is made at once, so a wrong file fails here with its name, not at the first request.
    pub fn from_file(path: &Path) -> Result<AppKey, AuthError> {
        let pem = std::fs::read(path).map_err(|source| AuthError::KeyFile {
            path: path.to_owned(),
            source,
        })?;
        let not_rsa = |message: String| AuthError::NotRsaKey {
            path: path.to_owned(),
            message,
        };
        let key = EncodingKey::from_rsa_pem(&pem).map_err(|e| not_rsa(e.to_string()))?;
        let key = AppKey {
            key: Arc::new(key),
            path: path.to_owned(),
        };
        key.jwt(0, 0).map_err(not_rsa)?;
        Ok(key)
    }

    /// The App's RS256 JWT (`iss` = App id), valid from a minute before `now` for nine minutes.
    pub(crate) fn jwt(&self, app_id: u64, now: u64) -> Result<String, String> {
        let claims = Claims {
            iat: now.saturating_sub(JWT_BACKDATE_SECS),
            exp: now + JWT_LIFETIME_SECS,
            iss: app_id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/github-app")
            .join(name)
    }

    #[test]
    fn sources_in_order_and_never_printed() {
        let env = |var: &str| match var {
            "GITHUB_TOKEN" => Some("  \n".to_owned()),
            "GH_TOKEN" => Some("gho_from_gh".to_owned()),
            _ => None,
        };
        let auth = GithubAuth::from_sources(None, None, env).expect("token");
        assert!(matches!(&auth, GithubAuth::Token(t) if t.expose() == "gho_from_gh"));
        assert!(matches!(
            GithubAuth::from_sources(None, None, |_| None),
            Ok(GithubAuth::Anonymous)
        ));
        let app = AppSource {
            app_id: 7,
            key_file: fixture("test-app-key.pem"),
            installation_id: 9,
        };
        let auth = GithubAuth::from_sources(None, Some(&app), env).expect("app");
        let printed = format!("{auth:?}");
        assert!(printed.contains("test-app-key.pem") && !printed.contains("PRIVATE"));
        assert!(matches!(
            GithubAuth::from_sources(Some(Path::new("t")), Some(&app), env),
            Err(AuthError::Conflicting)
        ));
    }

    #[test]
    fn a_public_key_is_not_an_app_key() {
        let path = fixture("test-app-key.pub.pem");
        let error = AppKey::from_file(&path).expect_err("a public key cannot sign");
        assert!(matches!(error, AuthError::NotRsaKey { .. }), "{error}");
        assert!(
            error.to_string().contains("test-app-key.pub.pem"),
            "{error}"
        );
    }

    #[test]
    fn jwts_carry_the_app_id_and_a_bounded_lifetime() {
        let key = AppKey::from_file(&fixture("test-app-key.pem")).expect("key");
        let jwt = key.jwt(4242, 1_000_000).expect("signed");
        let public =
            std::fs::read(fixture("test-app-key.pub.pem")).expect("public key is readable");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &jwt,
            &jsonwebtoken::DecodingKey::from_rsa_pem(&public).expect("public key"),
            &validation,
        )
        .expect("our own signature verifies");
        assert_eq!(decoded.claims["iss"], "4242");
        assert_eq!(decoded.claims["iat"], 1_000_000 - 60);
        assert_eq!(decoded.claims["exp"], 1_000_000 + 540);
    }
}
