//! The Rudder components `up` runs, where their binaries are found, and how
//! one is started as a child process (shared with the e2e harness).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};

/// One Rudder binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    AdmissionWebhooks,
    Scheduler,
    ReplicaSet,
    Deployment,
    DaemonSet,
    Job,
    Hpa,
}

impl Component {
    /// Every component, in the order `up` starts them: the webhooks first
    /// (they guard writes), then the scheduler, then the controllers.
    pub const ALL: [Component; 7] = [
        Component::AdmissionWebhooks,
        Component::Scheduler,
        Component::ReplicaSet,
        Component::Deployment,
        Component::DaemonSet,
        Component::Job,
        Component::Hpa,
    ];

    /// The name used on the command line (`--components`).
    pub fn name(self) -> &'static str {
        match self {
            Component::AdmissionWebhooks => "admission-webhooks",
            Component::Scheduler => "scheduler",
            Component::ReplicaSet => "replicaset",
            Component::Deployment => "deployment",
            Component::DaemonSet => "daemonset",
            Component::Job => "job",
            Component::Hpa => "hpa",
        }
    }

    /// The binary's file name.
    pub fn binary(self) -> &'static str {
        match self {
            Component::AdmissionWebhooks => "rudder-admission-webhooks",
            Component::Scheduler => "rudder-scheduler",
            Component::ReplicaSet => "rudder-replicaset-controller",
            Component::Deployment => "rudder-deployment-controller",
            Component::DaemonSet => "rudder-daemonset-controller",
            Component::Job => "rudder-job-controller",
            Component::Hpa => "rudder-hpa-controller",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `--components`: `all`, `none`, or a comma-separated list of
/// component names. Duplicates are ignored; the result is in start order.
pub fn parse_components(s: &str) -> Result<Vec<Component>, String> {
    match s.trim() {
        "all" => return Ok(Component::ALL.to_vec()),
        "none" | "" => return Ok(vec![]),
        _ => {}
    }
    let mut picked = Vec::new();
    for part in s.split(',').map(str::trim) {
        let Some(c) = Component::ALL.into_iter().find(|c| c.name() == part) else {
            let known: Vec<&str> = Component::ALL.iter().map(|c| c.name()).collect();
            return Err(format!("unknown component {part:?}; known: {}, or all, none", known.join(", ")));
        };
        if !picked.contains(&c) {
            picked.push(c);
        }
    }
    picked.sort();
    Ok(picked)
}

/// Where a Rudder binary is. With `dir`, only there. Otherwise next to the
/// running executable or its parent directory (cargo puts binaries in
/// `target/<profile>/` and test executables in `target/<profile>/deps/`),
/// else on PATH.
pub fn find_binary(name: &str, dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let places: Vec<PathBuf> = match dir {
        Some(dir) => vec![dir.to_path_buf()],
        None => {
            let exe = std::env::current_exe().context("cannot tell where this executable is")?;
            let mut places: Vec<PathBuf> = exe.ancestors().skip(1).take(2).map(Path::to_path_buf).collect();
            if let Some(paths) = std::env::var_os("PATH") {
                places.extend(std::env::split_paths(&paths));
            }
            places
        }
    };
    match places.iter().map(|d| d.join(name)).find(|c| c.is_file()) {
        Some(found) => Ok(found),
        None => bail!("{}", not_found(&[name], dir)),
    }
}

/// The error for binaries [`find_binary`] did not find.
pub fn not_found(names: &[&str], dir: Option<&Path>) -> String {
    let (what, build) = match names {
        [one] => (format!("the Rudder binary {one} was"), "it"),
        many => (format!("the Rudder binaries {} were", many.join(", ")), "them"),
    };
    match dir {
        Some(dir) => format!("{what} not found in {}", dir.display()),
        None => {
            let exe = std::env::current_exe().map(|e| e.display().to_string()).unwrap_or_else(|_| "this executable".into());
            format!(
                "{what} not found next to {exe} nor on PATH; `cargo build --workspace --bins` builds {build} if this version of Rudder has {build}"
            )
        }
    }
}

/// Where a started component serves.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `--metrics-bind-address`, e.g. `127.0.0.1:0`.
    pub metrics: String,
    /// `--health-probe-bind-address`.
    pub health: String,
}

/// The command that starts a Rudder binary against `kubeconfig` with the
/// flags every binary takes, its stdout and stderr appended to `log`, in
/// its own process group (a terminal's Ctrl-C reaches only the parent,
/// which stops its children in order), killed if the handle is dropped.
pub fn command(binary: &Path, kubeconfig: &Path, endpoints: &Endpoints, log: &Path) -> anyhow::Result<tokio::process::Command> {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).with_context(|| format!("cannot open {}", log.display()))?;
    let err = out.try_clone()?;
    let mut cmd = tokio::process::Command::new(binary);
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg(format!("--metrics-bind-address={}", endpoints.metrics))
        .arg(format!("--health-probe-bind-address={}", endpoints.health))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(true);
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_lists() {
        assert_eq!(parse_components("all").unwrap(), Component::ALL.to_vec());
        assert_eq!(parse_components("none").unwrap(), vec![]);
        assert_eq!(parse_components("job, scheduler,job").unwrap(), vec![Component::Scheduler, Component::Job]);
        let err = parse_components("replicaset,replicasets").unwrap_err();
        assert!(err.contains("unknown component \"replicasets\""), "{err}");
        assert!(err.contains("admission-webhooks"), "{err}");
    }

    #[test]
    fn a_missing_binary_names_itself_and_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_binary("rudder-scheduler", Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("rudder-scheduler") && err.contains(&dir.path().display().to_string()), "{err}");
        std::fs::write(dir.path().join("rudder-scheduler"), "").unwrap();
        assert_eq!(find_binary("rudder-scheduler", Some(dir.path())).unwrap(), dir.path().join("rudder-scheduler"));
        let err = find_binary("rudder-no-such-binary", None).unwrap_err().to_string();
        assert!(err.contains("rudder-no-such-binary was not found next to"), "{err}");
        let err = not_found(&["rudder-a", "rudder-b"], None);
        assert!(
            err.starts_with("the Rudder binaries rudder-a, rudder-b were not found next to")
                && err.ends_with("`cargo build --workspace --bins` builds them if this version of Rudder has them"),
            "{err}"
        );
    }
}
