//! Namespace names: a rendered template made into a valid Kubernetes namespace (an RFC 1123
//! DNS label: `a-z0-9-`, starting and ending alphanumeric, at most 63 characters).

use sha2::{Digest, Sha256};

use super::DeployError;

/// The longest DNS label.
pub const MAX_LEN: usize = 63;

/// Makes `rendered` a DNS label: lower-cased, other characters replaced by `-`, dashes
/// trimmed from both ends; longer than 63 characters, it is cut and ends in `-` plus 6 hex
/// characters of its SHA-256, so two long names that share a prefix stay distinct. An empty
/// result (say, a template that is only `{branch}` on a branch named `___`) is an error.
pub fn dns_label(rendered: &str) -> Result<String, DeployError> {
    let mapped: String = rendered
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    let mut label = collapse_dashes(mapped.trim_matches('-'));
    if label.is_empty() {
        return Err(DeployError::InvalidNamespace {
            rendered: rendered.to_owned(),
            reason: "it has no letters or digits".to_owned(),
        });
    }
    if label.len() > MAX_LEN {
        let digest = Sha256::digest(rendered.as_bytes());
        let suffix = hex::encode(&digest[..3]);
        label.truncate(MAX_LEN - suffix.len() - 1);
        let kept = label.trim_end_matches('-').to_owned();
        label = format!("{kept}-{suffix}");
    }
    Ok(label)
}

fn collapse_dashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_unchanged() {
        assert_eq!(dns_label("shop-pr-42").unwrap(), "shop-pr-42");
    }

    #[test]
    fn other_characters_become_dashes_and_edges_are_trimmed() {
        assert_eq!(dns_label("Shop_PR.42--").unwrap(), "shop-pr-42");
        assert_eq!(dns_label("$(touch /tmp/pwned)").unwrap(), "touch-tmp-pwned");
    }

    #[test]
    fn long_names_are_cut_to_63_with_a_distinguishing_hash() {
        let a = dns_label(&format!("shop-pr-7-{}", "a".repeat(80))).unwrap();
        let b = dns_label(&format!("shop-pr-7-{}b", "a".repeat(80))).unwrap();
        assert_eq!(a.len(), MAX_LEN);
        assert!(a.starts_with("shop-pr-7-aaa"));
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn a_name_with_nothing_usable_is_refused_with_the_reason() {
        let err = dns_label("___").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the namespace template renders to \"___\", which is not a valid namespace: it has \
             no letters or digits"
        );
    }
}
