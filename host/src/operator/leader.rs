//! Leader election on a `coordination.k8s.io/v1` Lease with compare-and-swap writes (the
//! client-go LeaseLock algorithm): only the holder writes, a standby takes over once the
//! holder stops renewing for a lease duration, and a holder that cannot renew steps down
//! before anyone else may take over.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

/// How the lock behaves.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    /// This replica's identity (pod name plus a random suffix).
    pub identity: String,
    /// A holder that has not renewed for this long may be replaced.
    pub duration: Duration,
    /// How often to renew or retry (well below `duration`).
    pub retry: Duration,
}

/// Leadership as it changes; `true` while this replica holds the lease.
pub type Leadership = watch::Receiver<bool>;

/// Runs the election loop until the task is aborted; releases the lease on `release`.
pub fn spawn(
    api: Api<Lease>,
    settings: LeaseSettings,
) -> (Leadership, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut lock = LeaseLock::new(api, settings);
        loop {
            let leading = lock.try_acquire_or_renew().await;
            sender.send_if_modified(|current| {
                let changed = *current != leading;
                *current = leading;
                changed
            });
            tokio::time::sleep(lock.settings.retry).await;
        }
    });
    (receiver, task)
}

/// One replica's view of the lock.
#[derive(Debug)]
pub struct LeaseLock {
    api: Api<Lease>,
    pub settings: LeaseSettings,
    /// When this replica last renewed successfully (its own clock).
    last_renewed: Option<tokio::time::Instant>,
}

impl LeaseLock {
    pub fn new(api: Api<Lease>, settings: LeaseSettings) -> LeaseLock {
        LeaseLock {
            api,
            settings,
            last_renewed: None,
        }
    }

    /// One round: take a free or expired lease, renew our own, or follow. Returns whether
    /// this replica leads now. A failed renewal keeps leadership only while the last good
    /// renewal is younger than the lease duration minus one retry period, so the old leader
    /// stops before a standby may start.
    pub async fn try_acquire_or_renew(&mut self) -> bool {
        match self.round().await {
            Ok(leading) => {
                if leading {
                    self.last_renewed = Some(tokio::time::Instant::now());
                } else {
                    self.last_renewed = None;
                }
                leading
            }
            Err(error) => {
                tracing::warn!(lease = %self.settings.name, "leader election: {error}");
                let deadline = self.settings.duration.saturating_sub(self.settings.retry);
                match self.last_renewed {
                    Some(at) if at.elapsed() < deadline => true,
                    _ => {
                        self.last_renewed = None;
                        false
                    }
                }
            }
        }
    }

    async fn round(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let Some(lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    namespace: Some(self.settings.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(now, now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => {
                    tracing::info!(identity = %self.settings.identity, "acquired the lease");
                    Ok(true)
                }
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.as_deref().unwrap_or_default();
        let mine = holder == self.settings.identity;
        let expired = match (&spec.renew_time, spec.lease_duration_seconds) {
            (Some(MicroTime(renewed)), Some(seconds)) => {
                let expiry = renewed.as_second().saturating_add(i64::from(seconds));
                now.as_second() >= expiry
            }
            _ => true,
        };
        if !mine && !holder.is_empty() && !expired {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0);
        let (acquired, transitions) = if mine {
            (spec.acquire_time.map_or(now, |MicroTime(t)| t), transitions)
        } else {
            (now, transitions.saturating_add(1))
        };
        let mut updated = lease;
        updated.spec = Some(self.spec(acquired, now, transitions));
        // `replace` carries the resourceVersion we read: a concurrent writer makes it a 409.
        match self
            .api
            .replace(&self.settings.name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {
                if !mine {
                    tracing::info!(identity = %self.settings.identity, previous = holder, "took over the lease");
                }
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn spec(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.settings.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.settings.duration.as_secs().max(1)).unwrap_or(i32::MAX),
            ),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Gives the lease up (on shutdown) so a standby need not wait for it to expire.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(&self.settings.identity) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        self.api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }
}
