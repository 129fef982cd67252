//! The Kubernetes runner: each step as a Job in the configured namespace.
