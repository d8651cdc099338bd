//! The LimitRanger admission rule (stub: replaced by the real rule).

use k8s_openapi::api::core::v1::LimitRange;
use serde_json::Value;

use crate::namespace_lifecycle::{Denial, Operation};

pub const PLUGIN_NAME: &str = "LimitRanger";

pub struct Request<'a> {
    pub operation: Operation,
    pub kind: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: &'a str,
    pub object: &'a Value,
    pub old_object: Option<&'a Value>,
}

pub fn handles(_: &Request<'_>) -> bool {
    false
}

pub fn mutate(_: &Request<'_>, _: &[LimitRange]) -> Result<Option<Value>, Denial> {
    Ok(None)
}

pub fn validate(_: &Request<'_>, _: &[LimitRange]) -> Result<(), Denial> {
    Ok(())
}
