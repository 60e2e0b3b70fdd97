//! Choosing between io_uring and the fallback backend.

use std::fmt;
use std::str::FromStr;

/// What the user asked for (`io-backend auto|uring|epoll`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    #[default]
    Auto,
    Uring,
    Epoll,
}

impl FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(BackendChoice::Auto),
            "uring" | "io_uring" | "io-uring" => Ok(BackendChoice::Uring),
            "epoll" => Ok(BackendChoice::Epoll),
            _ => Err(format!(
                "invalid io-backend '{s}' (expected auto, uring or epoll)"
            )),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Uring => "uring",
            BackendChoice::Epoll => "epoll",
        })
    }
}

/// The backend actually running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Uring,
    Epoll,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Uring => "io_uring",
            BackendKind::Epoll => "epoll",
        }
    }
}

/// Why io_uring could not be used.
#[derive(Debug, thiserror::Error)]
#[error("io_uring is unavailable: {0}")]
pub struct UringUnavailable(pub std::io::Error);

/// Checks whether an io_uring ring can be created here (fails with EPERM
/// under Docker's default seccomp profile or `kernel.io_uring_disabled`, and
/// ENOSYS on old kernels).
pub fn probe_uring() -> Result<(), UringUnavailable> {
    io_uring::IoUring::new(8)
        .map(|_| ())
        .map_err(UringUnavailable)
}

/// Resolves a choice to a backend: `auto` prefers io_uring and falls back to
/// epoll; `uring` fails if io_uring is unavailable.
pub fn resolve(choice: BackendChoice) -> Result<BackendKind, UringUnavailable> {
    match choice {
        BackendChoice::Epoll => Ok(BackendKind::Epoll),
        BackendChoice::Uring => probe_uring().map(|_| BackendKind::Uring),
        BackendChoice::Auto => Ok(match probe_uring() {
            Ok(()) => BackendKind::Uring,
            Err(e) => {
                tracing::warn!("{e}; falling back to epoll");
                BackendKind::Epoll
            }
        }),
    }
}
