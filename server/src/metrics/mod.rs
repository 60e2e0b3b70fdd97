//! The Prometheus endpoint (`metrics-bind`:`metrics-port`, `/metrics`).
//!
//! Everything goes through the `metrics` facade: the group-commit log
//! (uring-io) records fsyncs and groups itself, the command path records
//! per-command durations through [`CommandMetrics`], and [`upkeep`] copies
//! the figures INFO prints (clients, memory, keyspace, persistence) into
//! gauges and counters once a second. Without the endpoint (`metrics-port
//! 0`) no recorder is installed and every handle is a no-op.

mod catalog;
mod command;
mod http;
pub mod upkeep;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

pub use catalog::*;
pub use command::CommandMetrics;

use crate::shared::Shared;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether the Prometheus recorder is installed (the endpoint is on).
pub fn enabled() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// How often gauges are refreshed from the server's state.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Starts the endpoint unless `metrics-port` is 0: installs the recorder
/// with explicit histogram buckets, describes and registers every series,
/// and starts the upkeep thread. Call before the io-threads start, so that
/// their command handles bind to the installed recorder.
pub fn start(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let (bind, port) = {
        let c = shared.config.read();
        (c.metrics_bind.clone(), c.metrics_port)
    };
    if port == 0 {
        tracing::info!("metrics endpoint disabled (metrics-port 0)");
        return Ok(());
    }
    let ip: IpAddr = bind
        .parse()
        .with_context(|| format!("metrics-bind '{bind}' is not an IP address"))?;
    let addr = SocketAddr::new(ip, port);
    let mut builder = PrometheusBuilder::new();
    for (name, buckets) in catalog::histogram_buckets() {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_string()), buckets)
            .context("setting histogram buckets")?;
    }
    // Our own listener: `/metrics` also carries the per-command histograms
    // the io-threads keep outside the exporter (see command.rs).
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    http::start(addr, handle.clone(), shared)?;
    metrics::set_global_recorder(recorder).context("installing the metrics recorder")?;
    INSTALLED.store(true, Ordering::Relaxed);
    catalog::describe_all();
    ringkv_uring_io::log::metrics::describe_metrics();
    ringkv_uring_io::log::metrics::register_metrics();
    upkeep::start(shared, UPKEEP_INTERVAL, handle)?;
    tracing::info!("metrics endpoint listening on http://{addr}/metrics");
    Ok(())
}
