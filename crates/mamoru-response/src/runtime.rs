//! Pausing and stopping containers through their runtime. The call sits behind [`ContainerRuntime`] so the
//! containerd gRPC client of `mamoru-container` can implement it; the command-line clients here (`runc`, `ctr`)
//! work wherever those tools are installed.

use crate::config::{RuntimeConfig, RuntimeKind};
use crate::error::ResponseError;
use std::path::PathBuf;
use std::process::Command;

/// A container runtime's control API.
pub trait ContainerRuntime: Send + Sync {
    /// A short name for logs and alerts (`runc`, `containerd`).
    fn name(&self) -> &str;
    /// Freezes every process of the container.
    fn pause(&self, container_id: &str) -> Result<(), ResponseError>;
    /// Sends `signal` to the container's init process (SIGKILL stops the container).
    fn kill(&self, container_id: &str, signal: i32) -> Result<(), ResponseError>;
}

/// The runtime described by the configuration, through its command-line client.
pub fn runtime_from_config(cfg: &RuntimeConfig) -> Box<dyn ContainerRuntime> {
    match cfg.kind {
        RuntimeKind::Runc => Box::new(RuncCli {
            binary: cfg.binary.clone().unwrap_or_else(|| PathBuf::from("runc")),
            root: cfg.root.clone(),
        }),
        RuntimeKind::Containerd => Box::new(CtrCli {
            binary: cfg.binary.clone().unwrap_or_else(|| PathBuf::from("ctr")),
            address: cfg.address.clone(),
            namespace: cfg.namespace.clone(),
        }),
    }
}

/// `runc [--root R] pause|kill ID`.
#[derive(Debug, Clone)]
pub struct RuncCli {
    pub binary: PathBuf,
    pub root: Option<PathBuf>,
}

impl RuncCli {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        if let Some(root) = &self.root {
            cmd.arg("--root").arg(root);
        }
        cmd
    }
}

impl ContainerRuntime for RuncCli {
    fn name(&self) -> &str {
        "runc"
    }
    fn pause(&self, container_id: &str) -> Result<(), ResponseError> {
        run(self.command().args(["pause", "--", container_id]))
    }
    fn kill(&self, container_id: &str, signal: i32) -> Result<(), ResponseError> {
        run(self.command().args(["kill", "--", container_id, &signal.to_string()]))
    }
}

/// `ctr [--address A] -n NS task pause|kill ID`.
#[derive(Debug, Clone)]
pub struct CtrCli {
    pub binary: PathBuf,
    pub address: Option<PathBuf>,
    pub namespace: String,
}

impl CtrCli {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        if let Some(addr) = &self.address {
            cmd.arg("--address").arg(addr);
        }
        cmd.args(["--namespace", &self.namespace, "task"]);
        cmd
    }
}

impl ContainerRuntime for CtrCli {
    fn name(&self) -> &str {
        "containerd"
    }
    fn pause(&self, container_id: &str) -> Result<(), ResponseError> {
        run(self.command().args(["pause", container_id]))
    }
    fn kill(&self, container_id: &str, signal: i32) -> Result<(), ResponseError> {
        run(self
            .command()
            .args(["kill", "--signal", &signal.to_string(), container_id]))
    }
}

fn run(cmd: &mut Command) -> Result<(), ResponseError> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| ResponseError::Runtime(format!("running {shown}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ResponseError::Runtime(format!(
            "{shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
