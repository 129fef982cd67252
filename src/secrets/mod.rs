//! Secrets a repository's config names: which variables it may name ([`allow`]), and masking
//! their values wherever output goes ([`mask`]).

pub mod allow;
pub mod mask;

pub use allow::{RepoSecrets, SecretError};
pub use mask::{MASK, Masker, StreamMasker};
