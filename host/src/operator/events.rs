//! Kubernetes Events about subjects, written only by the leader.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};

use crate::api::report_status::truncate;
use crate::operator::context::Shared;

/// Publishes an Event (`action`: what the operator was doing, e.g. `Scan`, `Enforce`).
pub async fn publish(
    shared: &Shared,
    reference: &ObjectReference,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    if !shared.writes.is_open() {
        return;
    }
    let event = Event {
        type_,
        reason: reason.to_owned(),
        // Event notes are capped at 1 KiB by the API server.
        note: Some(truncate(&note, 1000)),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(e) = shared.recorder.publish(&event, reference).await {
        tracing::warn!("cannot publish the {reason} event: {e}");
    }
}
