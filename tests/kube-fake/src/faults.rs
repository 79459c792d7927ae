//! Fault injection: answer the next matching requests with an error instead of serving them,
//! or serve them late.

use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Clone, Debug)]
pub struct Fault {
    /// HTTP method ("GET", "PATCH", ...); None matches any.
    pub method: Option<String>,
    /// Substring of `path?query`, e.g. "/status", "/gitrepositories?" (list and watch, not
    /// single objects) or "watch=true"; "" matches any.
    pub path_contains: String,
    /// 0: serve the request normally (after `delay`).
    pub status: u16,
    pub reason: String,
    /// Waited before answering (with the state unlocked, so other requests go ahead).
    pub delay: Duration,
    /// Held until the matching `Gate` is released or dropped.
    pub gate: Option<tokio::sync::watch::Receiver<bool>>,
    /// How many more requests to fail.
    pub remaining: usize,
}

impl Fault {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}

/// Takes one use of the first matching fault.
pub fn take(faults: &mut Vec<Fault>, method: &str, path_and_query: &str) -> Option<Fault> {
    let i = faults
        .iter()
        .position(|f| f.matches(method, path_and_query))?;
    let f = &mut faults[i];
    f.remaining -= 1;
    let hit = f.clone();
    if f.remaining == 0 {
        faults.remove(i);
    }
    Some(hit)
}

/// Returned by `FakeApiServer::hold_next`: the held requests are answered once this is
/// released or dropped.
#[derive(Debug)]
pub struct Gate(pub(crate) tokio::sync::watch::Sender<bool>);

impl Gate {
    pub fn release(self) {
        // Receivers gone means nothing is held any more: fine.
        let _ = self.0.send(true);
    }
}

/// Waits as the fault says before the request is served (the state is not locked meanwhile).
pub async fn wait(f: &Fault) {
    if !f.delay.is_zero() {
        tokio::time::sleep(f.delay).await;
    }
    if let Some(mut gate) = f.gate.clone() {
        // An error means the Gate was dropped, which releases too.
        let _ = gate.wait_for(|open| *open).await;
    }
}
