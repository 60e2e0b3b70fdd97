//! A description of the machine a benchmark ran on, printed next to every
//! figure: numbers without it cannot be compared.

use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub kernel: String,
    /// `df -T` of the working directory: device, filesystem type.
    pub filesystem: String,
    pub redis_version: String,
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Machine {
    pub fn describe(dir: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_string(), |(_, m)| m.trim().to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string());
        let dir = dir.display().to_string();
        let filesystem = command_output("df", &["-T", &dir])
            .and_then(|s| {
                s.lines().nth(1).map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    format!(
                        "{} {} (mounted on {})",
                        f.first().unwrap_or(&"?"),
                        f.get(1).unwrap_or(&"?"),
                        f.last().unwrap_or(&"?")
                    )
                })
            })
            .unwrap_or_else(|| "unknown".to_string());
        let redis_version = command_output("redis-server", &["--version"])
            .unwrap_or_else(|| "redis-server not found".to_string());
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            kernel,
            filesystem,
            redis_version,
        }
    }

    /// One markdown line.
    pub fn markdown(&self) -> String {
        format!(
            "Machine: {} cores ({}), Linux {}, disk {}; {}",
            self.cores, self.cpu_model, self.kernel, self.filesystem, self.redis_version
        )
    }
}
