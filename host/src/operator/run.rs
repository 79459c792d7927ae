//! The operator's top level: probes, leader election, and the controllers while leading.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};

use crate::operator::context::{OperatorSettings, Owned, Shared, WriteGate};
use crate::operator::kinds_manager::{Sync, manage_kinds};
use crate::operator::leader::{self, LeaseLock, LeaseSettings};
use crate::operator::metrics::Metrics;
use crate::operator::scanner::Scanner;
use crate::operator::serve::{Probe, serve};

/// Everything `run` needs.
#[derive(Debug)]
pub struct OperatorConfig {
    pub settings: OperatorSettings,
    /// This replica's name in Events and the Lease.
    pub identity: String,
    /// `--leader-elect`: the Lease to hold; `None` runs as the only replica.
    pub lease: Option<LeaseSettings>,
    pub metrics_addr: Option<SocketAddr>,
    pub health_addr: Option<SocketAddr>,
}

/// Why the operator stopped.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running operator's handles, for tests and the probes.
#[derive(Debug, Clone)]
pub struct OperatorHandle {
    pub shared: Arc<Shared>,
    pub sync: Arc<Mutex<Sync>>,
    /// Where the probes listen (port 0 resolved).
    pub metrics_addr: Option<SocketAddr>,
    pub health_addr: Option<SocketAddr>,
}

struct OperatorProbe {
    shared: Arc<Shared>,
    sync: Arc<Mutex<Sync>>,
}

impl Probe for OperatorProbe {
    fn metrics(&self) -> String {
        self.shared.prune();
        let counts = self.shared.scanner.counts();
        self.shared.metrics.sync(
            counts.scans,
            counts.cache_hits,
            self.shared.scanner.github().stats(),
        );
        self.shared.metrics.encode()
    }

    fn ready(&self) -> bool {
        // A standby has nothing to sync: it is ready to take over.
        !self.shared.writes.is_open() || self.sync.lock().expect("sync lock").ready()
    }
}

/// Starts the probes and returns the handle plus the future that runs the operator until
/// `shutdown` resolves.
pub async fn start(
    client: kube::Client,
    scanner: Scanner,
    config: OperatorConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(OperatorHandle, impl Future<Output = ()>), OperatorError> {
    let metrics = Arc::new(Metrics::new());
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "sluice".to_owned(),
            instance: Some(config.identity.clone()),
        },
    );
    let shared = Arc::new(Shared {
        client: client.clone(),
        settings: config.settings.clone(),
        scanner,
        metrics,
        recorder,
        writes: WriteGate::default(),
        stores: Default::default(),
        memory: Default::default(),
        policies: Default::default(),
        alerts: Default::default(),
        argo_enabled: Default::default(),
        policy_report_crd: Default::default(),
    });
    let sync = Arc::new(Mutex::new(Sync::default()));
    let probe: Arc<dyn Probe> = Arc::new(OperatorProbe {
        shared: Arc::clone(&shared),
        sync: Arc::clone(&sync),
    });
    let mut handle = OperatorHandle {
        shared: Arc::clone(&shared),
        sync: Arc::clone(&sync),
        metrics_addr: None,
        health_addr: None,
    };
    let mut servers = Vec::new();
    for (addr, slot) in [
        (config.metrics_addr, &mut handle.metrics_addr),
        (config.health_addr, &mut handle.health_addr),
    ] {
        if let Some(addr) = addr {
            let (bound, task) = serve(addr, Arc::clone(&probe))
                .await
                .map_err(|source| OperatorError::Listen { addr, source })?;
            *slot = Some(bound);
            servers.push(Owned(task));
        }
    }
    let lease = config.lease;
    let run = async move {
        tokio::select! {
            () = lead_and_run(client.clone(), Arc::clone(&shared), Arc::clone(&sync), lease.clone()) => {}
            () = shutdown => {}
        }
        shared.writes.open(false);
        drop(servers);
        if let Some(settings) = lease {
            let api: Api<Lease> = Api::namespaced(client, &settings.namespace);
            if let Err(e) = LeaseLock::new(api, settings).release().await {
                tracing::warn!("cannot release the lease: {e}");
            }
        }
        tracing::info!("stopped");
    };
    Ok((handle, run))
}

/// Runs the controllers while this replica leads (always, without a lease).
async fn lead_and_run(
    client: kube::Client,
    shared: Arc<Shared>,
    sync: Arc<Mutex<Sync>>,
    lease: Option<LeaseSettings>,
) {
    let Some(settings) = lease else {
        shared.writes.open(true);
        manage_kinds(shared, sync).await;
        return;
    };
    let api: Api<Lease> = Api::namespaced(client, &settings.namespace);
    let (mut leadership, election) = leader::spawn(api, settings);
    // Dropped (aborted) with this future, so a stopped replica stops renewing.
    let _election = Owned(election);
    loop {
        if leadership.wait_for(|leading| *leading).await.is_err() {
            break;
        }
        tracing::info!("leading: starting the controllers");
        shared.writes.open(true);
        let controllers = Owned(tokio::spawn(manage_kinds(
            Arc::clone(&shared),
            Arc::clone(&sync),
        )));
        let lost = leadership.wait_for(|leading| !*leading).await.is_err();
        // Close the gate first: a reconcile still running must not write.
        shared.writes.open(false);
        drop(controllers);
        *sync.lock().expect("sync lock") = Sync::default();
        shared.policies.stop();
        for kind in crate::operator::kinds::WatchedKind::ALL {
            shared.stores.write().expect("stores lock").remove(&kind);
            shared.forget_kind(kind);
        }
        tracing::warn!("lost the lease: controllers stopped");
        if lost {
            break;
        }
        // Give the new leader a moment before competing again.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
