//! Which HPAs control which pods: upstream's `hpaSelectors` and its
//! ambiguity check (`AmbiguousSelector`). An HPA is registered when it is
//! seen (selecting nothing yet), learns its target's selector on each sync
//! and is forgotten when deleted; an HPA whose pods are also selected by
//! another registered HPA of its namespace is not scaled.

use std::collections::{BTreeMap, BTreeSet};

use rudder_common::selector::Selector;

/// The last known selector of every HPA, by (namespace, name): ordered, so
/// one namespace's HPAs are one range.
#[derive(Debug, Default)]
pub struct HpaSelectors {
    by_hpa: BTreeMap<(String, String), Selector>,
}

impl HpaSelectors {
    /// An HPA was seen (upstream's enqueue): it selects nothing until synced.
    pub fn register(&mut self, namespace: &str, name: &str) {
        self.by_hpa.entry((namespace.to_string(), name.to_string())).or_insert_with(Selector::nothing);
    }

    /// An HPA was deleted.
    pub fn forget(&mut self, namespace: &str, name: &str) {
        self.by_hpa.remove(&(namespace.to_string(), name.to_string()));
    }

    /// A synced HPA's target selector; only an HPA still registered is
    /// updated (one deleted meanwhile stays gone).
    pub fn learn(&mut self, namespace: &str, name: &str, selector: Selector) {
        if let Some(s) = self.by_hpa.get_mut(&(namespace.to_string(), name.to_string())) {
            *s = selector;
        }
    }

    /// The HPAs of `namespace` selecting at least one of these pods'
    /// label sets, as `namespace/name`, sorted.
    pub fn controlling<'a>(&self, namespace: &str, pods: impl IntoIterator<Item = &'a BTreeMap<String, String>>) -> Vec<String> {
        let candidates: Vec<(&str, &Selector)> = self
            .by_hpa
            .range((namespace.to_string(), String::new())..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|((_, name), s)| (name.as_str(), s))
            .collect();
        let mut found = BTreeSet::new();
        for labels in pods {
            for (name, selector) in &candidates {
                if selector.matches(labels) {
                    found.insert(format!("{namespace}/{name}"));
                }
            }
        }
        found.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn two_hpas_selecting_the_same_pods_are_both_reported() {
        let mut s = HpaSelectors::default();
        s.register("ns", "a");
        s.register("ns", "b");
        s.learn("ns", "a", "app=web".parse().unwrap());
        let pods = [labels(&[("app", "web"), ("track", "canary")])];
        // b has not synced yet: it selects nothing.
        assert_eq!(s.controlling("ns", &pods), vec!["ns/a"]);
        s.learn("ns", "b", "app=web,track=canary".parse().unwrap());
        assert_eq!(s.controlling("ns", &pods), vec!["ns/a", "ns/b"]);
        // Stable pods are b's no longer.
        assert_eq!(s.controlling("ns", &[labels(&[("app", "web")])]), vec!["ns/a"]);
    }

    #[test]
    fn other_namespaces_and_forgotten_hpas_do_not_count() {
        let mut s = HpaSelectors::default();
        for (ns, name) in [("ns", "a"), ("other", "b"), ("ns", "c")] {
            s.register(ns, name);
            s.learn(ns, name, "app=web".parse().unwrap());
        }
        s.forget("ns", "c");
        // A deleted HPA's last sync does not bring it back.
        s.learn("ns", "c", "app=web".parse().unwrap());
        assert_eq!(s.controlling("ns", &[labels(&[("app", "web")])]), vec!["ns/a"]);
        assert!(s.controlling("ns", &[]).is_empty());
    }
}
