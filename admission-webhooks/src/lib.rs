//! Rudder admission webhooks (LimitRanger, ResourceQuota, NamespaceLifecycle). Not implemented yet.
