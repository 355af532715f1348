//! One execution environment: a bootstrap started as a child process, with the environment a
//! deployed function has, under a Runtime API emulation of its own.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use hyper::body::Bytes;
use tokio::time::Instant;

use shared::testing::lambda::RuntimeApi;

/// Lambda gives an init 10 s; a bootstrap that has not polled by then is broken.
const INIT_LIMIT: Duration = Duration::from_secs(15);

/// How to start a function.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: String,
    pub program: PathBuf,
    /// Everything but `AWS_LAMBDA_RUNTIME_API`, which is per instance.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    /// stdout and stderr of every instance, appended.
    pub log: PathBuf,
    pub timeout: Duration,
    pub arn: String,
    /// Whether events carry `Lambda-Runtime-Trace-Id`, as Lambda's do.
    pub trace_ids: bool,
}

pub struct Instance {
    child: Mutex<Child>,
    api: RuntimeApi,
    /// Process start → first poll for an event.
    pub init: Duration,
}

/// From `/proc/<pid>/status`, in kB (KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmHWM`: the peak resident set.
    pub peak_kb: u64,
    /// `VmRSS`: the resident set now.
    pub resident_kb: u64,
}

impl Instance {
    /// Starts the bootstrap and returns once it polls for its first event.
    pub async fn start(launch: &Launch) -> Result<Self, String> {
        let api = RuntimeApi::start(launch.arn.clone(), launch.timeout, launch.trace_ids)
            .await
            .map_err(|e| format!("Runtime API emulation: {e}"))?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log)
            .map_err(|e| format!("{}: {e}", launch.log.display()))?;
        let stderr = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(&launch.program);
        command
            .env_clear()
            .envs(&launch.env)
            .env("AWS_LAMBDA_RUNTIME_API", api.host_port())
            .current_dir(&launch.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", launch.program.display()))?;
        let mut instance = Self {
            child: Mutex::new(child),
            api,
            init: Duration::ZERO,
        };
        loop {
            if let Some(polled) = instance.api.first_poll() {
                instance.init = polled.duration_since(started);
                return Ok(instance);
            }
            if let Some(error) = instance.api.init_error() {
                return Err(format!("init error: {error}"));
            }
            let child = instance
                .child
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "exited ({status}) before polling for an event; see {}",
                    launch.log.display()
                ));
            }
            if started.elapsed() > INIT_LIMIT {
                return Err(format!(
                    "did not poll for an event within {} s",
                    INIT_LIMIT.as_secs()
                ));
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(5), instance.api.first_poll_changed())
                    .await;
        }
    }

    /// The latency and answer of one invocation; if there is none, whether the process died.
    pub async fn invoke(&self, payload: Bytes) -> Result<(Duration, Bytes), String> {
        self.api.invoke(payload).await.map_err(|error| {
            let exited = self
                .child
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .try_wait();
            match exited {
                Ok(Some(status)) => format!("{error}: the process exited ({status})"),
                _ => error,
            }
        })
    }

    pub fn memory(&self) -> Result<Memory, String> {
        let pid = self
            .child
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .id();
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        parse_status(&status).ok_or_else(|| format!("{path} has no VmHWM/VmRSS"))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let child = self
            .child
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn parse_status(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Memory {
        peak_kb: field("VmHWM:")?,
        resident_kb: field("VmRSS:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_and_resident_memory_are_read_from_proc_status() {
        let status = "Name:\tbootstrap\nVmPeak:\t  812345 kB\nVmHWM:\t    9104 kB\nVmRSS:\t    8876 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status(status),
            Some(Memory {
                peak_kb: 9104,
                resident_kb: 8876
            })
        );
        assert_eq!(parse_status("Name:\tzombie\n"), None);
    }
}
