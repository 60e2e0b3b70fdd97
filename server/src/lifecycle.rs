//! Starting and stopping the server: listener, io-threads, signals, timers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ringkv_uring_io::net::{self, LoopConfig};
use ringkv_uring_io::{backend, Waker};

use crate::settings::Settings;
use crate::shared::Shared;
use crate::worker::WorkerHandler;

/// Binds the first usable address of `bind` (a `-` prefix marks an address
/// that may be missing, as in Redis).
fn bind_listener(settings: &Settings) -> anyhow::Result<TcpListener> {
    let mut last_err = None;
    for addr in &settings.bind {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, addr.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let target = if host.contains(':') {
            format!("[{host}]:{}", settings.port)
        } else {
            format!("{host}:{}", settings.port)
        };
        match TcpListener::bind(&target) {
            Ok(l) => return Ok(l),
            Err(e) if optional => {
                tracing::debug!("optional bind {target} failed: {e}");
            }
            Err(e) => {
                last_err = Some(anyhow::anyhow!(
                    "Could not create server TCP listening socket {target}: {e}"
                ));
                break;
            }
        }
    }
    Err(last_err.unwrap_or_else(|| anyhow::anyhow!("no bind address could be used")))
}

/// Runs the server until SIGINT/SIGTERM or SHUTDOWN.
pub fn run(settings: Settings, config_file: Option<String>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.dir)
        .with_context(|| format!("can't create dir {}", settings.dir.display()))?;
    std::env::set_current_dir(&settings.dir)
        .with_context(|| format!("can't chdir to '{}'", settings.dir.display()))?;
    let backend = backend::resolve(settings.io_backend)?;
    let threads = settings.io_threads.max(1);
    let listener = bind_listener(&settings)?;
    let local = listener.local_addr()?;
    let mut shared = Shared::new(settings, backend, threads);
    shared.config_file = config_file;
    let shared = Arc::new(shared);

    let mut wakers = Vec::with_capacity(threads);
    for _ in 0..threads {
        wakers.push(Waker::new().context("creating an eventfd for an io-thread")?);
    }
    *shared.wakers.write() = wakers.clone();

    install_signal_handlers(&shared)?;
    crate::memory::record_startup();

    let listener = Arc::new(listener);
    let mut handles = Vec::with_capacity(threads);
    for (i, waker) in wakers.into_iter().enumerate() {
        let shared = shared.clone();
        let listener = listener.clone();
        let cfg = LoopConfig {
            backend,
            tick: Duration::from_millis(1000 / u64::from(shared.settings.read().hz.max(1))),
            ..LoopConfig::default()
        };
        let handle = std::thread::Builder::new()
            .name(format!("io-{i}"))
            .spawn(move || {
                let mut handler = WorkerHandler::new(shared.clone(), i);
                if let Err(e) = net::run(&cfg, &listener, &waker, &mut handler) {
                    tracing::error!("io-thread {i} failed: {e}");
                    shared.request_shutdown();
                }
            })
            .context("spawning an io-thread")?;
        handles.push(handle);
    }
    tracing::info!(
        "ringkv {} ready to accept connections on {local} (io backend: {}, io-threads: {threads})",
        env!("CARGO_PKG_VERSION"),
        backend.name()
    );
    for h in handles {
        let _ = h.join();
    }
    tracing::info!("ringkv is now ready to exit, bye bye...");
    Ok(())
}

fn install_signal_handlers(shared: &Arc<Shared>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("installing signal handlers")?;
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                tracing::warn!("Received {name} scheduling shutdown...");
                shared.request_shutdown();
            }
        })
        .context("spawning the signal thread")?;
    Ok(())
}
