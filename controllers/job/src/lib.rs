//! Rudder's Job controller: the pure parts of upstream
//! `pkg/controller/job` (Kubernetes v1.36), without I/O. See the README.

pub mod backoff;
pub mod events;
pub mod failure_policy;
pub mod indexes;
pub mod metrics;
pub mod pods;
pub mod success_policy;
pub mod sync;
