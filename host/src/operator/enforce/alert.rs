//! `alert`: a Slack incoming-webhook message or a generic signed JSON webhook, sent once per
//! state transition (and a "resolved" message when the trigger clears), its delivery recorded
//! on the subject so that a restart or a new leader does not send it again.
//!
//! Delivery is at-least-once: the message goes out, then the record is written; a crash
//! between the two sends it again with the same `X-Sluice-Delivery` id, which a receiver can
//! use to drop the duplicate. Webhook URLs and signing keys are read from Secrets in the
//! operator's namespace at send time and never logged.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::policy::{AlertKind, AlertTarget, SecretKeyRef};
use crate::operator::context::Shared;

/// A receiver that does not answer in this time has failed (the alert is retried).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header of generic webhooks: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-sluice-signature-256";
/// The same for every attempt of one message, so receivers can drop duplicates.
pub const DELIVERY_HEADER: &str = "x-sluice-delivery";
/// `triggered` or `resolved`.
pub const EVENT_HEADER: &str = "x-sluice-event";

/// Why an alert was not delivered. No variant carries the URL.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(
        "the operator's namespace is not known (set POD_NAMESPACE), so Secret {0} cannot be read"
    )]
    NoNamespace(String),
    #[error("Secret {namespace}/{name}: {source}")]
    Secret {
        namespace: String,
        name: String,
        source: kube::Error,
    },
    #[error("Secret {namespace}/{name} has no key {key:?}")]
    MissingKey {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("the URL in Secret {0} is not a valid http(s) URL")]
    BadUrl(String),
    #[error("cannot load the system's root certificates: {0}")]
    Roots(String),
    #[error("the receiver did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the receiver could not be reached: {0}")]
    Transport(String),
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
}

/// A message about one subject under one policy.
#[derive(Debug, Clone)]
pub struct Message {
    /// `triggered` or `resolved`.
    pub event: &'static str,
    pub delivery_id: String,
    pub body: Value,
    /// For Slack: one line of text.
    pub text: String,
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends alerts; one HTTP client for the operator's lifetime.
#[derive(Debug, Default)]
pub struct AlertSender {
    client: OnceLock<Result<HttpClient, String>>,
}

impl AlertSender {
    fn client(&self) -> Result<&HttpClient, AlertError> {
        self.client
            .get_or_init(|| {
                let connector = HttpsConnectorBuilder::new()
                    .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
                    .map_err(|e| e.to_string())?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok(Client::builder(TokioExecutor::new()).build(connector))
            })
            .as_ref()
            .map_err(|e| AlertError::Roots(e.clone()))
    }

    /// Delivers `message` to `target`: reads the Secret(s), signs, posts.
    pub async fn send(
        &self,
        shared: &Shared,
        target: &AlertTarget,
        message: &Message,
    ) -> Result<(), AlertError> {
        let url = read_secret(shared, &target.secret_ref).await?;
        let url = String::from_utf8(url)
            .ok()
            .map(|u| u.trim().to_owned())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .and_then(|u| u.parse::<http::Uri>().ok())
            .ok_or_else(|| AlertError::BadUrl(secret_name(&target.secret_ref)))?;
        let body = match target.kind {
            AlertKind::Slack => json!({"text": message.text}),
            AlertKind::Webhook => message.body.clone(),
        };
        let body = serde_json::to_vec(&body).expect("an alert body serializes");
        let mut request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("sluice/", env!("CARGO_PKG_VERSION")),
            )
            .header(DELIVERY_HEADER, &message.delivery_id)
            .header(EVENT_HEADER, message.event);
        if let (AlertKind::Webhook, Some(key_ref)) = (target.kind, &target.signing_secret_ref) {
            let key = read_secret(shared, key_ref).await?;
            request = request.header(SIGNATURE_HEADER, signature(&key, &body));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .expect("the alert request is well-formed");
        let client = self.client()?;
        let response = tokio::time::timeout(TIMEOUT, client.request(request))
            .await
            .map_err(|_| AlertError::Timeout(TIMEOUT))?
            .map_err(|e| AlertError::Transport(transport_reason(&e)))?;
        let status = response.status();
        // Drain the body so the connection can be reused; its content does not matter.
        let _ = tokio::time::timeout(TIMEOUT, response.into_body().collect()).await;
        if !status.is_success() {
            return Err(AlertError::Status(status.as_u16()));
        }
        Ok(())
    }
}

/// `sha256=<hex>`: HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery id stable across attempts and replicas for one message.
pub fn delivery_id(subject_uid: &str, policy: &str, transition: &str, event: &str) -> String {
    let digest = Sha256::digest(format!("{subject_uid}\n{policy}\n{transition}\n{event}"));
    hex::encode(&digest[..16])
}

async fn read_secret(shared: &Shared, key: &SecretKeyRef) -> Result<Vec<u8>, AlertError> {
    let namespace = shared
        .settings
        .operator_namespace
        .clone()
        .ok_or_else(|| AlertError::NoNamespace(key.name.clone()))?;
    let secrets: Api<Secret> = Api::namespaced(shared.client.clone(), &namespace);
    let secret = secrets
        .get(&key.name)
        .await
        .map_err(|source| AlertError::Secret {
            namespace: namespace.clone(),
            name: key.name.clone(),
            source,
        })?;
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&key.key))
        .map(|b| b.0.clone());
    let from_string = || {
        secret
            .string_data
            .as_ref()
            .and_then(|d| d.get(&key.key))
            .map(|s| s.clone().into_bytes())
    };
    from_data
        .or_else(from_string)
        .ok_or_else(|| AlertError::MissingKey {
            namespace,
            name: key.name.clone(),
            key: key.key.clone(),
        })
}

fn secret_name(key: &SecretKeyRef) -> String {
    format!("{}[{}]", key.name, key.key)
}

/// The kind of transport failure, without the URL (which may hold a token, as Slack's do).
fn transport_reason(error: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut reason = if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    if let Some(source) = error.source().and_then(|s| s.source()) {
        reason.push_str(&format!(": {source}"));
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_exact_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn delivery_ids_are_stable_and_distinct_per_message() {
        let a = delivery_id(
            "uid",
            "shop/strict",
            "Critical@2026-11-24T00:00:00Z",
            "triggered",
        );
        assert_eq!(
            a,
            delivery_id(
                "uid",
                "shop/strict",
                "Critical@2026-11-24T00:00:00Z",
                "triggered"
            )
        );
        assert_ne!(
            a,
            delivery_id(
                "uid",
                "shop/strict",
                "Critical@2026-11-24T00:00:00Z",
                "resolved"
            )
        );
        assert_ne!(
            a,
            delivery_id(
                "uid",
                "shop/other",
                "Critical@2026-11-24T00:00:00Z",
                "triggered"
            )
        );
        assert_eq!(a.len(), 32);
    }
}
