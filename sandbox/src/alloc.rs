//! Service ClusterIP and NodePort allocation, as kube-apiserver v1.36's
//! Service REST storage does it when a Service is created or updated
//! (`pkg/registry/core/service/storage/alloc.go`, the IPAddress-backed
//! `ipallocator` and the bitmap `portallocator`), for a single-stack IPv4
//! cluster with `--service-cluster-ip-range=10.96.0.0/16` (kind's default)
//! and `--service-node-port-range=30000-32767` (upstream's default).
//!
//! Nothing is kept beside the store: what is allocated is read from the
//! stored Services (their `clusterIPs`, `ports[*].nodePort` and
//! `healthCheckNodePort`), plus what writes in flight have reserved between
//! allocation and storage. A deleted Service (however it goes: delete,
//! garbage collection, namespace deletion) frees its values as it leaves
//! the store, and a Service updated away from a type that needs them frees
//! them as the update is stored. `10.96.0.1`, which upstream gives the
//! `kubernetes` Service in `default`, is reserved (the sandbox serves no such
//! Service).
//!
//! As upstream, free addresses are taken at random from the range above
//! the first 256 (the static band, KEP-3070), then from the static band;
//! free node ports at random above the first 86 (KEP-3668), then below.
//! A dry run allocates nothing: a requested address is only checked to be
//! in the range and a requested port to be free, and the values shown are
//! upstream's placeholders (`10.96.0.0`, node ports from 32769 on).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use rudder_common::field::{FieldError, FieldPath, Rendered, go_quote};
use serde_json::{Value, json};

use crate::registry;
use crate::status::{ApiError, ApiResult};
use crate::store::Store;

/// The Service CIDR (`--service-cluster-ip-range`).
pub const SERVICE_CIDR: &str = "10.96.0.0/16";
/// The NodePort range (`--service-node-port-range`).
pub const NODE_PORT_RANGE: &str = "30000-32767";

const NETWORK: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const PREFIX_BITS: u32 = 16;
/// The first and last assignable addresses (not the network's `.0` nor,
/// for IPv4, its broadcast address).
const FIRST_IP: u32 = NETWORK + 1;
const LAST_IP: u32 = NETWORK + (1 << (32 - PREFIX_BITS)) - 2;
/// The `kubernetes` Service's address.
pub const KUBERNETES_IP: u32 = FIRST_IP;
/// The static band's size: min(max(16, hosts/16), 256).
const IP_OFFSET: u32 = 256;

const PORT_BASE: i64 = 30000;
const PORT_MAX: i64 = 32767;
/// min(max(16, size/32), 128) for the 2768 ports of the range.
const PORT_OFFSET: i64 = 86;

/// What writes in flight have allocated but not stored yet.
#[derive(Default)]
pub struct Allocator {
    inflight: Mutex<Inflight>,
}

#[derive(Default)]
struct Inflight {
    ips: Vec<u32>,
    ports: Vec<i64>,
}

/// Values a write allocated: they stay taken until the write is over (the
/// Service is stored, or the write failed), then the store holds them (or
/// nothing does).
pub struct Reservation<'a> {
    alloc: &'a Allocator,
    ips: Vec<u32>,
    ports: Vec<i64>,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut f = self.alloc.inflight.lock().unwrap_or_else(|e| e.into_inner());
        for ip in &self.ips {
            if let Some(i) = f.ips.iter().position(|x| x == ip) {
                f.ips.swap_remove(i);
            }
        }
        for p in &self.ports {
            if let Some(i) = f.ports.iter().position(|x| x == p) {
                f.ports.swap_remove(i);
            }
        }
    }
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn ty(svc: &Value) -> &str {
    match str_at(svc, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    }
}

fn needs_cluster_ip(svc: &Value) -> bool {
    ty(svc) != "ExternalName"
}

fn needs_node_ports(svc: &Value) -> bool {
    matches!(ty(svc), "NodePort" | "LoadBalancer")
}

/// `apiservice.NeedsHealthCheck`: a LoadBalancer with
/// `externalTrafficPolicy: Local`.
fn needs_health_check(svc: &Value) -> bool {
    ty(svc) == "LoadBalancer" && str_at(svc, "/spec/externalTrafficPolicy") == "Local"
}

fn should_allocate_node_ports(svc: &Value) -> bool {
    match ty(svc) {
        "NodePort" => true,
        "LoadBalancer" => svc.pointer("/spec/allocateLoadBalancerNodePorts").and_then(Value::as_bool) != Some(false),
        _ => false,
    }
}

fn cluster_ips(svc: &Value) -> Vec<String> {
    match svc.pointer("/spec/clusterIPs").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect(),
        _ => match str_at(svc, "/spec/clusterIP") {
            "" => vec![],
            ip => vec![ip.to_string()],
        },
    }
}

fn node_port_of(p: &Value) -> i64 {
    p.get("nodePort").and_then(Value::as_i64).unwrap_or(0)
}

/// The node ports a Service holds, its health check port included.
fn node_ports(svc: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = ports(svc).iter().map(node_port_of).filter(|p| *p != 0).collect();
    if let Some(hc) = svc.pointer("/spec/healthCheckNodePort").and_then(Value::as_i64).filter(|p| *p != 0) {
        out.push(hc);
    }
    out
}

fn ports(svc: &Value) -> &[Value] {
    svc.pointer("/spec/ports").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn parse_v4(s: &str) -> Option<u32> {
    s.parse::<Ipv4Addr>().ok().map(u32::from)
}

fn in_range(ip: u32) -> bool {
    (FIRST_IP..=LAST_IP).contains(&ip)
}

fn random_u32() -> u32 {
    let b = uuid::Uuid::new_v4();
    let b = b.as_bytes();
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The first free value of `lo..=hi` from a random start, wrapping.
fn scan<T: Copy + Ord>(lo: i64, hi: i64, to: impl Fn(i64) -> T, used: &BTreeSet<T>) -> Option<T> {
    if hi < lo {
        return None;
    }
    let size = hi - lo + 1;
    let start = random_u32() as i64 % size;
    (0..size).map(|i| to(lo + (start + i) % size)).find(|v| !used.contains(v))
}

fn invalid(svc: &Value, errs: Vec<FieldError>) -> ApiError {
    ApiError::invalid("", "Service", str_at(svc, "/metadata/name"), &errs)
}

fn go_strings(v: &[String]) -> Rendered {
    if v.is_empty() {
        return Rendered("[]string(nil)".into());
    }
    Rendered(format!("[]string{{{}}}", v.iter().map(|s| go_quote(s)).collect::<Vec<_>>().join(", ")))
}

/// A port-allocation step of one write: what it allocated, what it found
/// in use, whether it is a dry run.
struct PortOp<'u> {
    used: &'u BTreeSet<i64>,
    taken: Vec<i64>,
    dry: bool,
}

impl PortOp<'_> {
    fn has(&self, p: i64) -> bool {
        self.used.contains(&p) || self.taken.contains(&p)
    }

    fn allocate(&mut self, p: i64) -> Result<(), String> {
        if !self.dry && !(PORT_BASE..=PORT_MAX).contains(&p) {
            return Err(format!("provided port is not in the valid range. The range of valid ports is {NODE_PORT_RANGE}"));
        }
        if self.has(p) {
            return Err("provided port is already allocated".into());
        }
        self.taken.push(p);
        Ok(())
    }

    fn allocate_next(&mut self) -> Result<i64, String> {
        if self.dry {
            // Upstream's dry-run placeholder: one above the highest port
            // this operation took, 32769 for the first.
            let p = self.taken.iter().max().map_or(32769, |m| m + 1);
            self.taken.push(p);
            return Ok(p);
        }
        let mut used: BTreeSet<i64> = self.used.clone();
        used.extend(self.taken.iter().copied());
        let p = scan(PORT_BASE + PORT_OFFSET, PORT_MAX, |v| v, &used)
            .or_else(|| scan(PORT_BASE, PORT_BASE + PORT_OFFSET - 1, |v| v, &used))
            .ok_or("range is full")?;
        self.taken.push(p);
        Ok(p)
    }
}

impl Allocator {
    /// Allocates the ClusterIP and node ports `svc` (a defaulted Service
    /// about to be validated and stored) needs, writing them into it. `old`
    /// is the stored Service on update. The returned reservation must be
    /// kept until the Service is stored or the write has failed.
    pub fn allocate<'a>(&'a self, store: &Store, svc: &mut Value, old: Option<&Value>, dry: bool) -> ApiResult<Reservation<'a>> {
        if let Some(old) = old {
            drop_type_dependent_fields(svc, old);
            patch_allocated_values(svc, old);
        }
        let mut f = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        // What is in use: every stored Service but this one, and what other
        // writes hold.
        let services = registry::find("", "v1", "services").expect("services");
        let (_, all) = store.list(services, None);
        let me = (str_at(svc, "/metadata/namespace").to_string(), str_at(svc, "/metadata/name").to_string());
        let mut used_ips: BTreeSet<u32> = f.ips.iter().copied().collect();
        used_ips.insert(KUBERNETES_IP);
        let mut used_ports: BTreeSet<i64> = f.ports.iter().copied().collect();
        for s in &all {
            if old.is_some() && (str_at(s, "/metadata/namespace"), str_at(s, "/metadata/name")) == (me.0.as_str(), me.1.as_str()) {
                continue;
            }
            used_ips.extend(cluster_ips(s).iter().filter_map(|ip| parse_v4(ip)));
            used_ports.extend(node_ports(s));
        }

        if needs_cluster_ip(svc) {
            families(svc)?;
        }
        let mut ips = vec![];
        // ClusterIPs: on create, and on update from ExternalName.
        let alloc_ip = needs_cluster_ip(svc) && old.is_none_or(|o| !needs_cluster_ip(o));
        if alloc_ip && let Some(ip) = alloc_cluster_ip(svc, &used_ips, dry)? {
            ips.push(ip);
        }

        // Node ports.
        let mut op = PortOp { used: &used_ports, taken: vec![], dry };
        let old_ports = old.map(node_ports).unwrap_or_default();
        if needs_node_ports(svc) {
            let r = match old {
                None => init_node_ports(svc, &mut op),
                Some(_) => update_node_ports(svc, &old_ports, &mut op),
            };
            r.map_err(|e| e.into_api(svc))?;
        }
        // The health check port: allocated when a Service comes to need one;
        // a Service that keeps needing it keeps it.
        if needs_health_check(svc) && !old.is_some_and(needs_health_check) {
            let hc = svc.pointer("/spec/healthCheckNodePort").and_then(Value::as_i64).unwrap_or(0);
            health_check_node_port(svc, hc, &mut op).map_err(|e| ApiError::internal(format!("Internal error occurred: {e}")))?;
        }
        // Only a successful allocation is recorded (and a dry run records
        // nothing); the lock is released before the reservation exists.
        let res =
            if dry { Reservation { alloc: self, ips: vec![], ports: vec![] } } else { Reservation { alloc: self, ips, ports: op.taken } };
        f.ips.extend(res.ips.iter().copied());
        f.ports.extend(res.ports.iter().copied());
        drop(f);
        Ok(res)
    }
}

enum PortErr {
    Invalid(FieldError),
    Internal(String),
}

impl PortErr {
    fn into_api(self, svc: &Value) -> ApiError {
        match self {
            PortErr::Invalid(e) => invalid(svc, vec![e]),
            PortErr::Internal(m) => ApiError::internal(format!("Internal error occurred: {m}")),
        }
    }
}

fn node_port_err(i: usize, port: i64, msg: String) -> PortErr {
    PortErr::Invalid(FieldError::invalid(FieldPath::root("spec").child("ports").index(i).child("nodePort"), port, msg))
}

fn set_node_port(svc: &mut Value, i: usize, p: i64) {
    if let Some(port) = svc.pointer_mut(&format!("/spec/ports/{i}")).and_then(Value::as_object_mut) {
        port.insert("nodePort".into(), json!(p));
    }
}

/// `initNodePorts`: ports with the same port number share a node port.
fn init_node_ports(svc: &mut Value, op: &mut PortOp<'_>) -> Result<(), PortErr> {
    let allocate_new = should_allocate_node_ports(svc);
    let list: Vec<(i64, i64)> = ports(svc).iter().map(|p| (p.get("port").and_then(Value::as_i64).unwrap_or(0), node_port_of(p))).collect();
    let mut by_port: Vec<(i64, i64)> = vec![];
    for (i, &(port, np)) in list.iter().enumerate() {
        if np == 0 && !allocate_new {
            continue;
        }
        let allocated = by_port.iter().find(|(p, _)| *p == port).map(|(_, n)| *n);
        match allocated {
            None => {
                // Any node port asked for this port number, here or later.
                let asked = list.iter().find(|(p, n)| *p == port && *n != 0).map(|(_, n)| *n);
                let n = match asked {
                    Some(n) => {
                        op.allocate(n).map_err(|m| node_port_err(i, n, m))?;
                        n
                    }
                    None => op.allocate_next().map_err(|m| PortErr::Internal(format!("failed to allocate a nodePort: {m}")))?,
                };
                set_node_port(svc, i, n);
                by_port.push((port, n));
            }
            Some(a) if a != np => {
                if np == 0 {
                    set_node_port(svc, i, a);
                } else {
                    op.allocate(np).map_err(|m| node_port_err(i, np, m))?;
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `updateNodePorts`: ports the old Service held are kept, new ones are
/// allocated.
fn update_node_ports(svc: &mut Value, old_ports: &[i64], op: &mut PortOp<'_>) -> Result<(), PortErr> {
    let allocate_new = should_allocate_node_ports(svc);
    let list: Vec<i64> = ports(svc).iter().map(node_port_of).collect();
    let mut seen: Vec<(String, i64)> = vec![];
    for (i, &np) in list.iter().enumerate() {
        if np == 0 && !allocate_new {
            continue;
        }
        let n = if np != 0 {
            if !old_ports.contains(&np) && !op.taken.contains(&np) {
                op.allocate(np).map_err(|m| node_port_err(i, np, m))?;
            }
            np
        } else {
            let n = op.allocate_next().map_err(|m| PortErr::Internal(format!("failed to allocate a nodePort: {m}")))?;
            set_node_port(svc, i, n);
            n
        };
        let proto = str_at(&ports(svc)[i], "/protocol").to_string();
        if seen.contains(&(proto.clone(), n)) {
            return Err(PortErr::Internal(format!("duplicate nodePort: {{{proto} {n}}}")));
        }
        seen.push((proto, n));
    }
    Ok(())
}

fn health_check_node_port(svc: &mut Value, hc: i64, op: &mut PortOp<'_>) -> Result<(), String> {
    if hc != 0 {
        op.allocate(hc).map_err(|e| format!("failed to allocate requested HealthCheck NodePort {hc}: {e}"))
    } else {
        let p = op.allocate_next().map_err(|e| format!("failed to allocate a HealthCheck NodePort 0: {e}"))?;
        svc["spec"]["healthCheckNodePort"] = json!(p);
        Ok(())
    }
}

/// What `initIPFamilyFields` rejects on a single-stack IPv4 cluster: dual
/// stack required, or a family other than IPv4 (headless selectorless
/// Services excepted, as upstream).
fn families(svc: &Value) -> ApiResult<()> {
    let headless = cluster_ips(svc).first().is_some_and(|ip| ip == "None");
    let selectorless = svc.pointer("/spec/selector").and_then(Value::as_object).is_none_or(|m| m.is_empty());
    if headless && selectorless {
        return Ok(());
    }
    let mut errs = vec![];
    let spec = FieldPath::root("spec");
    let policy = str_at(svc, "/spec/ipFamilyPolicy");
    if policy == "RequireDualStack" {
        errs.push(FieldError::invalid(spec.child("ipFamilyPolicy"), policy, "this cluster is not configured for dual-stack services"));
    }
    let fams = svc.pointer("/spec/ipFamilies").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, f) in fams.iter().enumerate() {
        let f = f.as_str().unwrap_or("");
        if f != "IPv4" && !(i == 0 && f == "IPv6" && cluster_ips(svc).first().is_some_and(|ip| ip.contains(':'))) {
            errs.push(FieldError::invalid(spec.child("ipFamilies").index(i), f, "not configured on this cluster"));
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(invalid(svc, errs)) }
}

/// Allocates the ClusterIP of a Service that needs one (unless headless);
/// returns the address taken (none on a dry run).
fn alloc_cluster_ip(svc: &mut Value, used: &BTreeSet<u32>, dry: bool) -> ApiResult<Option<u32>> {
    let ips = cluster_ips(svc);
    let requested = ips.first().cloned().unwrap_or_default();
    if requested == "None" {
        return Ok(None);
    }
    let path = FieldPath::root("spec").child("clusterIPs");
    let (ip, taken) = if requested.is_empty() {
        if dry {
            // Upstream's dry-run allocator shows the range's network address.
            (NETWORK, None)
        } else {
            let to = |v: i64| v as u32;
            let lo = FIRST_IP as i64;
            let ip = scan(lo + IP_OFFSET as i64, LAST_IP as i64, to, used)
                .or_else(|| scan(lo, lo + IP_OFFSET as i64 - 1, to, used))
                .ok_or_else(|| ApiError::internal("Internal error occurred: failed to allocate a serviceIP: range is full"))?;
            (ip, Some(ip))
        }
    } else {
        let Some(ip) = parse_v4(&requested) else {
            let e = if requested.parse::<std::net::Ipv6Addr>().is_ok() {
                FieldError::invalid(path.index(0), go_strings(&ips), "IPv6 is not configured on this cluster")
            } else {
                FieldError::invalid(path.index(0), requested.as_str(), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
            };
            return Err(invalid(svc, vec![e]));
        };
        let why = if dry {
            // The dry-run allocator checks the range only.
            (!in_range(ip))
                .then(|| format!("the provided IP ({requested}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"))
        } else if !in_range(ip) {
            // No ServiceCIDR holds the address.
            Some("the provided network does not match the current range".to_string())
        } else if used.contains(&ip) {
            Some("provided IP is already allocated".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            let msg = format!("failed to allocate IP {requested}: {why}");
            return Err(invalid(svc, vec![FieldError::invalid(path, go_strings(&ips), msg)]));
        }
        (ip, (!dry).then_some(ip))
    };
    let s = Ipv4Addr::from(ip).to_string();
    let spec = svc["spec"].as_object_mut().expect("a Service has a spec");
    spec.insert("clusterIP".into(), json!(s));
    spec.insert("clusterIPs".into(), json!([s]));
    Ok(taken)
}

/// The strategy's `dropTypeDependentFields`: values a type needed are
/// dropped when the type no longer needs them, unless the request changed
/// them (validation then has its say).
fn drop_type_dependent_fields(svc: &mut Value, old: &Value) {
    let spec = |v: &Value| v.get("spec").cloned().unwrap_or(Value::Null);
    let (os, ns) = (spec(old), spec(svc));
    let Some(s) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if needs_cluster_ip(old) && !needs_cluster_ip_spec(&ns) && os.get("clusterIPs") == ns.get("clusterIPs") {
        s.remove("clusterIP");
        s.remove("clusterIPs");
        s.remove("ipFamilies");
        s.remove("ipFamilyPolicy");
    }
    let np = |v: &Value| -> Vec<i64> {
        v.get("ports").and_then(Value::as_array).map(|a| a.iter().map(node_port_of).collect()).unwrap_or_default()
    };
    if needs_node_ports(old) && !matches!(spec_type(&ns), "NodePort" | "LoadBalancer") && np(&os) == np(&ns) {
        for p in s.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(p) = p.as_object_mut() {
                p.remove("nodePort");
            }
        }
    }
    let hc_needed = spec_type(&ns) == "LoadBalancer" && ns.get("externalTrafficPolicy").and_then(Value::as_str) == Some("Local");
    if needs_health_check(old) && !hc_needed && os.get("healthCheckNodePort") == ns.get("healthCheckNodePort") {
        s.remove("healthCheckNodePort");
    }
}

fn spec_type(spec: &Value) -> &str {
    match spec.get("type").and_then(Value::as_str).unwrap_or("") {
        "" => "ClusterIP",
        t => t,
    }
}

fn needs_cluster_ip_spec(spec: &Value) -> bool {
    spec_type(spec) != "ExternalName"
}

/// `patchAllocatedValues`: a client that resubmits what it created (no
/// clusterIP, no nodePorts) keeps what was allocated for it.
fn patch_allocated_values(svc: &mut Value, old: &Value) {
    if needs_cluster_ip(old) && needs_cluster_ip(svc) {
        let old_ips = cluster_ips(old);
        let s = svc["spec"].as_object_mut().expect("a Service has a spec");
        if s.get("clusterIP").and_then(Value::as_str).unwrap_or("").is_empty()
            && let Some(ip) = old_ips.first()
        {
            s.insert("clusterIP".into(), json!(ip));
        }
        if s.get("clusterIPs").and_then(Value::as_array).is_none_or(Vec::is_empty) && !old_ips.is_empty() {
            s.insert("clusterIPs".into(), json!(old_ips));
        }
    }
    if needs_node_ports(old) && needs_node_ports(svc) {
        let new_used: BTreeSet<i64> = ports(svc).iter().map(node_port_of).filter(|p| *p != 0).collect();
        let by_name: Vec<(String, i64)> = ports(old).iter().map(|p| (str_at(p, "/name").to_string(), node_port_of(p))).collect();
        let old_used: BTreeSet<i64> = by_name.iter().map(|(_, n)| *n).filter(|n| *n != 0).collect();
        let used: BTreeSet<i64> = old_used.intersection(&new_used).copied().collect();
        for p in svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut).into_iter().flatten() {
            if node_port_of(p) == 0 {
                let name = str_at(p, "/name").to_string();
                if let Some((_, n)) = by_name.iter().find(|(k, _)| *k == name)
                    && *n != 0
                    && !used.contains(n)
                {
                    p["nodePort"] = json!(n);
                }
            }
        }
    }
    if needs_health_check(old)
        && needs_health_check(svc)
        && svc.pointer("/spec/healthCheckNodePort").and_then(Value::as_i64).unwrap_or(0) == 0
        && let Some(hc) = old.pointer("/spec/healthCheckNodePort").cloned()
    {
        svc["spec"]["healthCheckNodePort"] = hc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_bounds() {
        assert_eq!(Ipv4Addr::from(FIRST_IP).to_string(), "10.96.0.1");
        assert_eq!(Ipv4Addr::from(LAST_IP).to_string(), "10.96.255.254");
        assert_eq!(Ipv4Addr::from(FIRST_IP + IP_OFFSET).to_string(), "10.96.1.1");
        assert!(!in_range(NETWORK) && !in_range(LAST_IP + 1) && in_range(KUBERNETES_IP));
    }

    #[test]
    fn scan_finds_the_only_free_value() {
        let used: BTreeSet<i64> = (0..10).filter(|v| *v != 7).collect();
        for _ in 0..20 {
            assert_eq!(scan(0, 9, |v| v, &used), Some(7));
        }
        let full: BTreeSet<i64> = (0..10).collect();
        assert_eq!(scan(0, 9, |v| v, &full), None);
    }
}
