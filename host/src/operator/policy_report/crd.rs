//! Whether the cluster serves `wgpolicyk8s.io/v1alpha2` PolicyReports. Asked once through
//! discovery (one request at a time, whatever the number of subjects), remembered while
//! installed, and re-asked at most every few minutes while missing: a cluster without the CRD
//! gets one log line and no stream of failing writes.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::{API_VERSION, PLURAL};

/// How long a missing CRD is believed missing before discovery is asked again.
const RECHECK: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
enum Known {
    #[default]
    Unchecked,
    Installed,
    Missing(Instant),
}

/// The PolicyReport CRD's presence, shared by every reconcile.
#[derive(Debug, Default)]
pub struct PolicyReportCrd(Mutex<Known>);

impl PolicyReportCrd {
    /// Whether PolicyReports can be written now.
    pub async fn installed(&self, client: &kube::Client) -> Result<bool, kube::Error> {
        let mut known = self.0.lock().await;
        let was_missing = match *known {
            Known::Installed => return Ok(true),
            Known::Missing(since) if since.elapsed() < RECHECK => return Ok(false),
            Known::Missing(_) => true,
            Known::Unchecked => false,
        };
        let served = match client.list_api_group_resources(API_VERSION).await {
            Ok(list) => list.resources.iter().any(|r| r.name == PLURAL),
            Err(kube::Error::Api(status)) if status.code == 404 => false,
            Err(e) => return Err(e),
        };
        if served {
            if was_missing {
                tracing::info!(
                    "the PolicyReport CRD ({API_VERSION}) is installed now: writing PolicyReports"
                );
            }
            *known = Known::Installed;
        } else {
            if !was_missing {
                tracing::warn!(
                    "--policy-reports is set but the cluster does not serve {PLURAL}.{API_VERSION}: no PolicyReports are written (install the wg-policy PolicyReport CRD; checked again every {} s)",
                    RECHECK.as_secs()
                );
            }
            *known = Known::Missing(Instant::now());
        }
        Ok(served)
    }

    /// A write found the kind gone (the CRD was deleted): stop writing until it is back.
    pub async fn lost(&self) {
        let mut known = self.0.lock().await;
        if matches!(*known, Known::Installed | Known::Unchecked) {
            tracing::warn!(
                "the PolicyReport CRD ({API_VERSION}) went away: no PolicyReports are written"
            );
        }
        *known = Known::Missing(Instant::now());
    }
}
