//! The LimitRanger admission rule (to come).
