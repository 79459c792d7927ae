//! Shared by the integration tests: a CRD with a status subresource and hang guards.
#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::CustomResource;
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sluice_kube_fake::FakeApiServer;

#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "example.sluice.dev",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus"
)]
pub struct WidgetSpec {
    pub size: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WidgetStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

pub fn install_widget_crd(fake: &FakeApiServer) {
    let crd = serde_json::to_value(Widget::crd()).expect("CRD serializes");
    fake.insert(crd).expect("CRD installs");
}

/// Guards against a hang (not a timing assertion): generous, so slow CI only waits longer.
pub const GUARD: Duration = Duration::from_secs(30);

pub async fn next<S: Stream + Unpin>(s: &mut S) -> S::Item {
    tokio::time::timeout(GUARD, s.next())
        .await
        .expect("stream produced nothing before the guard")
        .expect("stream ended")
}

/// Polls `check` until it returns Some.
pub async fn eventually<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let poll = async {
        loop {
            if let Some(v) = check().await {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(GUARD, poll)
        .await
        .expect("condition not reached before the guard")
}
