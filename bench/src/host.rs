//! What both benchmark binaries read from where they run: the repository root, their settings
//! from the environment, and the machine and its load for the report.

use std::path::PathBuf;

/// Settings read from environment variables, relative to the repository root.
pub struct Env {
    pub root: PathBuf,
    /// The script that sets the required variables, named in the error when one is missing.
    script: &'static str,
}

impl Env {
    /// The current directory, which must be the repository root.
    pub fn new(script: &'static str) -> Result<Self, String> {
        let root = std::env::current_dir()
            .map_err(|e| e.to_string())?
            .canonicalize()
            .map_err(|e| e.to_string())?;
        if !root.join("template.yaml").is_file() {
            return Err(format!(
                "run from the repository root ({} has no template.yaml)",
                root.display()
            ));
        }
        Ok(Self { root, script })
    }

    /// A variable's value; unset and blank are the same.
    pub fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String, String> {
        self.var(name)
            .ok_or(format!("{name} is not set ({} sets it)", self.script))
    }

    /// A whole number, written with `_` or `,` between digit groups or not.
    pub fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.var(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .replace(['_', ','], "")
                .parse()
                .map_err(|_| format!("{name} must be a whole number, not {value:?}")),
        }
    }

    /// A path relative to the repository root.
    pub fn path(&self, name: &str, default: &str) -> PathBuf {
        self.root
            .join(self.var(name).unwrap_or_else(|| default.into()))
    }
}

/// The CPU model, kernel, architecture and CPU count, for the report's first lines.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cpus} CPUs, Linux {kernel} {}",
        std::env::consts::ARCH
    )
}

/// The 1, 5 and 15-minute load averages: other work on the machine moves every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
