//! `rudder-sandbox nodes` and `rudder-sandbox node stop|start|taint` as
//! processes, with nothing but a kubeconfig, against an in-process sandbox:
//! the nodes come up Ready, a stopped node turns Unknown and unreachable and
//! comes back when started, taints are added, a malformed taint is refused
//! with a message naming the problem, and SIGTERM stops the simulator cleanly.
//!
//! Every child is started with `kill_on_drop`, so a failing test leaves no
//! process behind; the `nodes` child's log is printed when a test fails.

mod util;

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Taint};
use kube::Api;
use util::{ToolEnv, eventually};

const BIN: &str = env!("CARGO_BIN_EXE_rudder-sandbox");

/// `rudder-sandbox ARGS --kubeconfig K` (and no KUBECONFIG from outside).
fn command(env: &ToolEnv, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    c.args(args)
        .arg("--kubeconfig")
        .arg(env.kubeconfig())
        .env_remove("KUBECONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// Runs a `rudder-sandbox` command to completion (within a minute):
/// (exit status, stdout, stderr).
async fn run(env: &ToolEnv, args: &[&str]) -> (ExitStatus, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), command(env, args).stdout(Stdio::piped()).stderr(Stdio::piped()).output())
        .await
        .unwrap_or_else(|_| panic!("rudder-sandbox {args:?} did not finish"))
        .expect("rudder-sandbox runs");
    (out.status, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs a `node ...` command that must succeed.
async fn node_command(env: &ToolEnv, args: &[&str]) {
    let (status, stdout, stderr) = run(env, args).await;
    assert!(status.success(), "rudder-sandbox {args:?}: {status}\n{stdout}{stderr}");
}

/// A `rudder-sandbox nodes` child, its log in a file of the test's
/// directory; killed when dropped, its log printed if the test failed.
struct NodesProcess {
    child: tokio::process::Child,
    log: std::path::PathBuf,
}

impl NodesProcess {
    fn start(env: &ToolEnv, count: usize) -> NodesProcess {
        let log = env.dir.path().join("nodes.log");
        let file = std::fs::File::create(&log).expect("log file");
        let count = count.to_string();
        let args = ["nodes", "--count", &count, "--heartbeat", "500ms", "--grace-period", "2s"];
        let child =
            command(env, &args).stdout(file.try_clone().expect("log file")).stderr(file).spawn().expect("rudder-sandbox nodes starts");
        NodesProcess { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("the nodes child is running")
    }
}

impl Drop for NodesProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- rudder-sandbox nodes log ---\n{log}--- end of log ---");
        }
    }
}

fn ready(n: &Node) -> Option<String> {
    n.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status.clone())
}

fn taints(n: &Node) -> Vec<Taint> {
    n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default()
}

fn unreachable_effects(n: &Node) -> Vec<String> {
    taints(n).into_iter().filter(|t| t.key == "node.kubernetes.io/unreachable").map(|t| t.effect).collect()
}

/// Waits until the node satisfies `f` (20 s at most); returns it.
async fn node_until(nodes: &Api<Node>, name: &str, what: &str, f: impl Fn(&Node) -> bool) -> Node {
    eventually(20, &format!("{name}: {what}"), || async { nodes.get_opt(name).await.ok().flatten().filter(|n| f(n)) }).await
}

async fn ready_nodes(env: &ToolEnv, names: &[&str]) -> Api<Node> {
    let nodes: Api<Node> = Api::all(env.client());
    for name in names {
        node_until(&nodes, name, "Ready", |n| ready(n).as_deref() == Some("True")).await;
    }
    nodes
}

#[tokio::test]
async fn nodes_register_and_turn_ready() {
    let env = ToolEnv::start().await;
    let _nodes = NodesProcess::start(&env, 2);
    let nodes = ready_nodes(&env, &["sim-node-0", "sim-node-1"]).await;
    let listed = nodes.list(&Default::default()).await.expect("nodes listed");
    let mut names: Vec<_> = listed.items.iter().filter_map(|n| n.metadata.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["sim-node-0", "sim-node-1"]);
}

#[tokio::test]
async fn node_stop_turns_a_node_unknown_and_unreachable_and_node_start_brings_it_back() {
    let env = ToolEnv::start().await;
    let _nodes = NodesProcess::start(&env, 2);
    let nodes = ready_nodes(&env, &["sim-node-0", "sim-node-1"]).await;

    node_command(&env, &["node", "stop", "sim-node-0"]).await;
    let n = node_until(&nodes, "sim-node-0", "Unknown and unreachable", |n| {
        ready(n).as_deref() == Some("Unknown") && unreachable_effects(n).len() == 2
    })
    .await;
    assert_eq!(unreachable_effects(&n), ["NoSchedule", "NoExecute"]);
    let condition = n.status.and_then(|s| s.conditions).and_then(|c| c.into_iter().find(|c| c.type_ == "Ready")).expect("Ready");
    assert_eq!(condition.reason.as_deref(), Some("NodeStatusUnknown"));
    // The other node is not affected.
    assert_eq!(ready(&nodes.get("sim-node-1").await.expect("sim-node-1")).as_deref(), Some("True"));

    node_command(&env, &["node", "start", "sim-node-0"]).await;
    node_until(&nodes, "sim-node-0", "Ready again, without the unreachable taints", |n| {
        ready(n).as_deref() == Some("True") && unreachable_effects(n).is_empty()
    })
    .await;
}

#[tokio::test]
async fn node_taint_adds_a_taint() {
    let env = ToolEnv::start().await;
    let _nodes = NodesProcess::start(&env, 2);
    let nodes = ready_nodes(&env, &["sim-node-0", "sim-node-1"]).await;

    // While the node heart-beats (every 500 ms), so the write may meet a
    // concurrent status update.
    node_command(&env, &["node", "taint", "sim-node-1", "dedicated=x:NoSchedule"]).await;
    let n = nodes.get("sim-node-1").await.expect("sim-node-1");
    let dedicated: Vec<_> = taints(&n).into_iter().filter(|t| t.key == "dedicated").collect();
    assert_eq!(dedicated.len(), 1, "{:?}", taints(&n));
    assert_eq!((dedicated[0].value.as_deref(), dedicated[0].effect.as_str()), (Some("x"), "NoSchedule"));
    // The same key and effect again replaces it; another effect adds one.
    node_command(&env, &["node", "taint", "sim-node-1", "dedicated=y:NoSchedule"]).await;
    node_command(&env, &["node", "taint", "sim-node-1", "dedicated:NoExecute"]).await;
    let n = nodes.get("sim-node-1").await.expect("sim-node-1");
    let mut dedicated: Vec<_> =
        taints(&n).into_iter().filter(|t| t.key == "dedicated").map(|t| (t.value.unwrap_or_default(), t.effect)).collect();
    dedicated.sort();
    assert_eq!(dedicated, [(String::new(), "NoExecute".to_string()), ("y".to_string(), "NoSchedule".to_string())]);
    assert!(taints(&nodes.get("sim-node-0").await.expect("sim-node-0")).is_empty());
}

#[tokio::test]
async fn malformed_taints_and_unknown_nodes_are_refused_with_a_clear_message() {
    let env = ToolEnv::start().await;
    let cases = [
        ("dedicated=x", "\"dedicated=x\" is not a taint (key[=value]:Effect)"),
        ("dedicated=x:Sometimes", "the effect must be NoSchedule, PreferNoSchedule or NoExecute"),
        ("=x:NoSchedule", "the taint has no key"),
    ];
    for (arg, message) in cases {
        let (status, stdout, stderr) = run(&env, &["node", "taint", "sim-node-1", arg]).await;
        assert!(!status.success(), "{arg}: {status}\n{stdout}{stderr}");
        assert!(stderr.contains(message), "{arg}: {stderr}");
        assert!(stderr.contains(arg), "the error names the argument {arg}: {stderr}");
    }
    // A well-formed taint for a node that does not exist.
    let (status, stdout, stderr) = run(&env, &["node", "taint", "sim-node-9", "dedicated=x:NoSchedule"]).await;
    assert!(!status.success(), "{status}\n{stdout}{stderr}");
    assert!(stderr.contains("\"sim-node-9\" not found"), "{stderr}");
    let (status, stdout, stderr) = run(&env, &["node", "stop", "sim-node-9"]).await;
    assert!(!status.success(), "{status}\n{stdout}{stderr}");
    assert!(stderr.contains("\"sim-node-9\" not found"), "{stderr}");
}

#[tokio::test]
async fn sigterm_stops_the_nodes_command_cleanly() {
    let env = ToolEnv::start().await;
    let mut nodes = NodesProcess::start(&env, 2);
    ready_nodes(&env, &["sim-node-0", "sim-node-1"]).await;

    let pid = nodes.pid().to_string();
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(sent.success(), "kill -TERM {pid}: {sent}");
    let status = tokio::time::timeout(Duration::from_secs(20), nodes.child.wait())
        .await
        .expect("rudder-sandbox nodes exits after SIGTERM")
        .expect("exit status");
    assert!(status.success(), "rudder-sandbox nodes exited with {status} after SIGTERM");
}
