//! Rudder's DaemonSet controller: the pure parts of upstream
//! `pkg/controller/daemon` (Kubernetes v1.36), without I/O.
//!
//! - [`pods`]: daemon pod tolerations, the node pinning affinity, the pod
//!   template with its revision labels, and which nodes should run (and keep
//!   running) the DaemonSet's pod.
//! - [`history`]: the ControllerRevisions (names, data, revision numbers,
//!   duplicates, cleanup).
//! - [`sync`]: the pods by node, the manage step, the failed pods back-off,
//!   the status counts.
//! - [`update`]: the RollingUpdate step (maxUnavailable, maxSurge).

pub mod history;
pub mod pods;
pub mod sync;
pub mod update;
