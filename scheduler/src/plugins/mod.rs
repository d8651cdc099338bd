//! The plugins of upstream's default profile, each in its own module.
