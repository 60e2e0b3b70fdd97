//! Starting and stopping the server: listener, io-threads, signals, timers.

use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ringkv_uring_io::net::{self, LoopConfig};
use ringkv_uring_io::{backend, BackendChoice, Waker};

use crate::config::{Config, IoBackend};
use crate::shared::Shared;
use crate::worker::WorkerHandler;

/// Binds the first usable address of `bind` (a `-` prefix marks an address
/// that may be missing, as in Redis).
fn bind_listener(config: &Config) -> anyhow::Result<TcpListener> {
    let mut last_err = None;
    for addr in &config.bind {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, addr.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let target = if host.contains(':') {
            format!("[{host}]:{}", config.port)
        } else {
            format!("{host}:{}", config.port)
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

fn backend_choice(b: IoBackend) -> BackendChoice {
    match b {
        IoBackend::Auto => BackendChoice::Auto,
        IoBackend::Uring => BackendChoice::Uring,
        IoBackend::Epoll => BackendChoice::Epoll,
    }
}

/// Pushes the encoding thresholds from the configuration into the engine.
pub fn apply_encoding_limits(config: &Config) {
    use ringkv_engine::types::ENCODING_LIMITS;
    let mut l = ENCODING_LIMITS.load();
    l.hash_max_listpack_entries = config.hash_max_listpack_entries as usize;
    l.hash_max_listpack_value = config.hash_max_listpack_value_bytes as usize;
    l.set_max_intset_entries = config.set_max_intset_entries as usize;
    l.zset_max_listpack_entries = config.zset_max_listpack_entries as usize;
    l.zset_max_listpack_value = config.zset_max_listpack_value_bytes as usize;
    l.list_max_listpack_size = i64::from(config.list_max_listpack_size);
    ENCODING_LIMITS.store(l);
}

/// Runs the server until SIGINT/SIGTERM or SHUTDOWN.
pub fn run(config: Config) -> anyhow::Result<()> {
    for w in config.load_warnings() {
        tracing::warn!("{w}");
    }
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("can't create dir {}", config.dir.display()))?;
    std::env::set_current_dir(&config.dir)
        .with_context(|| format!("can't chdir to '{}'", config.dir.display()))?;
    let backend = backend::resolve(backend_choice(config.io_backend))?;
    let threads = (config.io_threads as usize).max(1);
    // Signals are caught before the port opens: a SIGTERM sent as soon as
    // the server accepts connections must shut it down cleanly.
    let signals = catch_signals()?;
    let listener = bind_listener(&config)?;
    let local = listener.local_addr()?;
    let tick = Duration::from_millis(1000 / u64::from(config.hz.max(1)));
    let idle_poll = Duration::from_micros(u64::from(config.io_idle_poll_us));
    apply_encoding_limits(&config);
    let shared = Arc::new(Shared::new(config, backend, threads));
    // Lets BGREWRITEAOF and CONFIG SET start rewrite threads (issue 5).
    shared.aof.attach(&shared);

    let mut wakers = Vec::with_capacity(threads);
    for _ in 0..threads {
        wakers.push(Waker::new().context("creating an eventfd for an io-thread")?);
    }
    *shared.wakers.write() = wakers.clone();

    spawn_signal_thread(&shared, signals)?;
    // Before loading: the AOF's log resolves its metric handles when it
    // opens, and loading progress is worth watching.
    crate::metrics::start(&shared)?;
    // Clients are served while the dataset loads, as by Redis: INFO shows
    // the progress, commands that need the data get -LOADING.
    shared.loading.store(true, Ordering::Release);

    let listener = Arc::new(listener);
    let mut handles = Vec::with_capacity(threads);
    for (i, waker) in wakers.into_iter().enumerate() {
        let shared = shared.clone();
        let listener = listener.clone();
        let cfg = LoopConfig {
            backend,
            tick,
            idle_poll,
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
    let loaded = crate::persist::load_at_startup(&shared);
    shared.loading.store(false, Ordering::Release);
    match loaded {
        Ok(()) => {}
        Err(_) if crate::persist::rdb::load_was_interrupted(&shared) => {
            // SIGTERM or SHUTDOWN during the load: Redis 7.0 exits at once
            // without saving (the files on disk are the whole dataset).
            tracing::warn!("Shutdown requested while loading: exiting without saving");
            for h in handles {
                let _ = h.join();
            }
            crate::persist::on_shutdown(&shared);
            tracing::info!("ringkv is now ready to exit, bye bye...");
            return Ok(());
        }
        Err(e) => {
            shared.request_shutdown();
            return Err(e);
        }
    }
    crate::memory::record_startup();
    crate::cron::start(&shared)?;
    tracing::info!(
        "ringkv {} ready to accept connections on {local} (io backend: {}, io-threads: {threads})",
        env!("CARGO_PKG_VERSION"),
        backend.name()
    );
    for h in handles {
        let _ = h.join();
    }
    crate::persist::on_shutdown(&shared);
    tracing::info!("ringkv is now ready to exit, bye bye...");
    Ok(())
}

fn catch_signals() -> anyhow::Result<signal_hook::iterator::Signals> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).context("installing signal handlers")
}

fn spawn_signal_thread(
    shared: &Arc<Shared>,
    mut signals: signal_hook::iterator::Signals,
) -> anyhow::Result<()> {
    use signal_hook::consts::SIGINT;
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
