//! The ResourceQuota admission rule (to come).
