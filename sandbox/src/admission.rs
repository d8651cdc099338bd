//! The sandbox's admission chain, switched as kube-apiserver's is: by
//! `--enable-admission-plugins` and `--disable-admission-plugins`, against
//! kube-apiserver v1.36's plugin names (`pkg/kubeapiserver/options/plugins.go`)
//! and its defaults.
//!
//! The sandbox has a few of those plugins built in ([`BUILT_IN`]). A name
//! kube-apiserver does not know is refused with its message (`enable-admission-plugins
//! plugin "X" is unknown`); a name it knows but the sandbox does not have may
//! be disabled (it is off already) but enabling it is an error, as the
//! sandbox cannot do what it asks. kube-apiserver's other default-on plugins
//! (LimitRanger, ServiceAccount, ResourceQuota, PodSecurity, ...) are simply
//! absent.

use std::collections::BTreeSet;

/// Every admission plugin kube-apiserver v1.36 registers, in its order
/// (`AllOrderedPlugins`).
pub const KUBE_APISERVER_PLUGINS: &[&str] = &[
    "AlwaysAdmit",
    "NamespaceAutoProvision",
    "NamespaceLifecycle",
    "NamespaceExists",
    "LimitPodHardAntiAffinityTopology",
    "LimitRanger",
    "ServiceAccount",
    "NodeRestriction",
    "TaintNodesByCondition",
    "AlwaysPullImages",
    "ImagePolicyWebhook",
    "PodSecurity",
    "PodNodeSelector",
    "Priority",
    "DefaultTolerationSeconds",
    "PodTolerationRestriction",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "DefaultStorageClass",
    "StorageObjectInUseProtection",
    "PodGroupProtection",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeClaimResize",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "DenyServiceExternalIPs",
    "PodTopologyLabels",
    "PodGroupWorkloadExists",
    "NodeDeclaredFeatureValidator",
    "JobValidation",
    "PodResizeValidator",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
    "AlwaysDeny",
];

/// The plugins kube-apiserver enables when no flag says otherwise (the
/// complement of `DefaultOffAdmissionPlugins`).
pub const KUBE_APISERVER_DEFAULT_ON: &[&str] = &[
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "DefaultStorageClass",
    "PersistentVolumeClaimResize",
    "DefaultTolerationSeconds",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
    "StorageObjectInUseProtection",
    "PodGroupProtection",
    "Priority",
    "TaintNodesByCondition",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "PodSecurity",
    "PodTopologyLabels",
    "MutatingAdmissionPolicy",
    "ValidatingAdmissionPolicy",
    "PodGroupWorkloadExists",
    "NodeDeclaredFeatureValidator",
    "JobValidation",
    "PodResizeValidator",
];

/// The plugins the sandbox implements, all on by default as in
/// kube-apiserver.
pub const BUILT_IN: &[&str] =
    &["NamespaceLifecycle", "Priority", "DefaultTolerationSeconds", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook"];

/// The enabled built-in plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugins {
    enabled: BTreeSet<&'static str>,
}

impl Default for Plugins {
    /// kube-apiserver's defaults, as far as the sandbox has them: every
    /// built-in plugin.
    fn default() -> Self {
        Self { enabled: BUILT_IN.iter().copied().filter(|p| KUBE_APISERVER_DEFAULT_ON.contains(p)).collect() }
    }
}

impl Plugins {
    /// The plugins that `--enable-admission-plugins` and
    /// `--disable-admission-plugins` (each a list of names) leave on, or the
    /// error kube-apiserver (or, for plugins it has and the sandbox lacks,
    /// the sandbox) refuses them with.
    pub fn from_flags(enable: &[String], disable: &[String]) -> Result<Self, String> {
        let mut errs = Vec::new();
        for name in enable {
            if !KUBE_APISERVER_PLUGINS.contains(&name.as_str()) {
                errs.push(format!("enable-admission-plugins plugin {name:?} is unknown"));
            }
        }
        for name in disable {
            if !KUBE_APISERVER_PLUGINS.contains(&name.as_str()) {
                errs.push(format!("disable-admission-plugins plugin {name:?} is unknown"));
            }
        }
        let enabled: BTreeSet<&str> = enable.iter().map(String::as_str).collect();
        let disabled: BTreeSet<&str> = disable.iter().map(String::as_str).collect();
        let both: Vec<&str> = enabled.intersection(&disabled).copied().collect();
        if !both.is_empty() {
            errs.push(format!("[{}] in enable-admission-plugins and disable-admission-plugins overlapped", both.join(" ")));
        }
        if !errs.is_empty() {
            return Err(aggregate(&errs));
        }
        let missing: Vec<&str> = enabled.iter().copied().filter(|p| !BUILT_IN.contains(p)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "enable-admission-plugins: {} not built into rudder-sandbox (its admission plugins: {})",
                missing.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", "),
                BUILT_IN.join(", ")
            ));
        }
        let mut plugins = Plugins::default();
        plugins.enabled.retain(|p| !disabled.contains(p));
        for p in BUILT_IN {
            if enabled.contains(p) {
                plugins.enabled.insert(p);
            }
        }
        Ok(plugins)
    }

    /// These plugins off (names the sandbox lacks are off already).
    pub fn without(mut self, names: &[&str]) -> Self {
        self.enabled.retain(|p| !names.contains(p));
        self
    }

    pub fn enabled(&self, name: &str) -> bool {
        self.enabled.contains(name)
    }

    /// The enabled plugins, in kube-apiserver's order.
    pub fn names(&self) -> Vec<&'static str> {
        KUBE_APISERVER_PLUGINS.iter().copied().filter(|p| self.enabled.contains(p)).collect()
    }
}

/// `utilerrors.NewAggregate(errs).Error()`.
fn aggregate(errs: &[String]) -> String {
    if errs.len() == 1 { errs[0].clone() } else { format!("[{}]", errs.join(", ")) }
}

/// A comma-separated flag value as pflag's string slices read it (CSV, no
/// trimming; an empty value is no names).
pub fn split_flag(value: &str) -> Vec<String> {
    if value.is_empty() { Vec::new() } else { value.split(',').map(String::from).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_are_every_built_in_plugin() {
        let p = Plugins::default();
        assert_eq!(
            p.names(),
            vec!["NamespaceLifecycle", "Priority", "DefaultTolerationSeconds", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook"]
        );
        assert_eq!(Plugins::from_flags(&[], &[]).unwrap(), p);
    }

    #[test]
    fn the_lists_are_consistent() {
        for p in KUBE_APISERVER_DEFAULT_ON.iter().chain(BUILT_IN) {
            assert!(KUBE_APISERVER_PLUGINS.contains(p), "{p}");
        }
    }

    #[test]
    fn disabling_as_kind_config_does() {
        let p = Plugins::from_flags(&[], &s(&["LimitRanger", "ResourceQuota", "NamespaceLifecycle"])).unwrap();
        assert!(!p.enabled("NamespaceLifecycle"));
        assert!(p.enabled("Priority"));
        assert_eq!(Plugins::default().without(&["LimitRanger", "ResourceQuota", "NamespaceLifecycle"]), p);
    }

    #[test]
    fn unknown_and_overlapping_names_are_refused_as_kube_apiserver_does() {
        assert_eq!(Plugins::from_flags(&s(&["Bogus"]), &[]).unwrap_err(), "enable-admission-plugins plugin \"Bogus\" is unknown");
        assert_eq!(
            Plugins::from_flags(&s(&["Bogus"]), &s(&["namespacelifecycle"])).unwrap_err(),
            "[enable-admission-plugins plugin \"Bogus\" is unknown, disable-admission-plugins plugin \"namespacelifecycle\" is unknown]"
        );
        assert_eq!(
            Plugins::from_flags(&s(&["Priority", "NamespaceLifecycle"]), &s(&["Priority", "NamespaceLifecycle"])).unwrap_err(),
            "[NamespaceLifecycle Priority] in enable-admission-plugins and disable-admission-plugins overlapped"
        );
    }

    #[test]
    fn enabling_a_plugin_the_sandbox_lacks_fails_loudly() {
        let e = Plugins::from_flags(&s(&["AlwaysPullImages"]), &[]).unwrap_err();
        assert!(e.contains("\"AlwaysPullImages\" not built into rudder-sandbox"), "{e}");
        // Enabling one it has, after disabling, and re-enabling defaults.
        let p = Plugins::from_flags(&s(&["NamespaceLifecycle"]), &s(&["Priority"])).unwrap();
        assert!(p.enabled("NamespaceLifecycle") && !p.enabled("Priority"));
    }

    #[test]
    fn flag_values_split_as_pflag() {
        assert_eq!(split_flag("A,B"), s(&["A", "B"]));
        assert_eq!(split_flag(""), Vec::<String>::new());
        assert_eq!(split_flag("A, B"), s(&["A", " B"]));
    }
}
