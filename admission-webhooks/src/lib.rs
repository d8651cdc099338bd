//! Rudder's admission rules, as pure functions: the decisions of
//! kube-apiserver's LimitRanger, ResourceQuota and NamespaceLifecycle
//! plugins ([`limit_ranger`], [`resource_quota`], [`namespace_lifecycle`]),
//! which Rudder serves as webhooks (the `rudder-admission-webhooks` binary,
//! [`server`], reading and writing [`review`]s) and of which the sandbox
//! runs NamespaceLifecycle as a built-in plugin. Each rule is written once,
//! here, and both call it. See README.md.

pub mod limit_ranger;
pub mod namespace_lifecycle;
pub mod resource_quota;
pub mod review;
pub mod server;
