//! The ResourceQuota admission rule (stub: replaced by the real rule).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaStatus};
use rudder_common::quantity::Qty;
use serde_json::Value;

use crate::namespace_lifecycle::{Denial, Operation};

pub const PLUGIN_NAME: &str = "ResourceQuota";
pub type ResourceList = BTreeMap<String, Qty>;

pub struct Request<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub object: Option<&'a Value>,
    pub old_object: Option<&'a Value>,
}

pub fn admit(_: &Request<'_>, _: &[ResourceQuota], _: jiff::Timestamp) -> Result<Vec<ResourceQuota>, Denial> {
    Ok(vec![])
}

pub fn resources_to_count(_: &ResourceQuota) -> Vec<(String, String)> {
    vec![]
}

pub fn calculate_used(_: &ResourceQuota, _: &BTreeMap<(String, String), Vec<Value>>, _: jiff::Timestamp) -> ResourceList {
    ResourceList::new()
}

pub fn status(_: &ResourceQuota, _: &ResourceList) -> ResourceQuotaStatus {
    ResourceQuotaStatus::default()
}
