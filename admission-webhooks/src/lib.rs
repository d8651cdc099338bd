//! Rudder's admission rules, as pure functions: the decisions of
//! kube-apiserver's LimitRanger, ResourceQuota and NamespaceLifecycle
//! plugins, which Rudder serves as webhooks (the `rudder-admission-webhooks`
//! binary, to come) and which the sandbox runs as built-in plugins. Each
//! rule is written once, here, and both call it.
//!
//! Implemented: [`namespace_lifecycle`].

pub mod limit_ranger;
pub mod namespace_lifecycle;
pub mod resource_quota;
pub mod review;
pub mod server;
