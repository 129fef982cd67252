//! "Did you mean …?" for misspelt keys, values and names.

/// The candidate closest to `input`, if one is close enough to be a useful guess.
///
/// Close means: the same up to case; Jaro-Winkler similarity of at least 0.88 (good at typos
/// near the end, like `merge_qeue`); an edit distance of one per four characters (typos near
/// the start); or one being the other plus a `_`/`-` suffix (`drift` → `drift_detected`).
/// Nothing is suggested otherwise: a far-fetched guess misleads more than no guess.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input_lower = input.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let score = closeness(&input_lower, &candidate.to_lowercase());
        if score > 0.0 && best.is_none_or(|(top, _)| score > top) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// 0.0 when not close; otherwise higher is closer.
fn closeness(input: &str, candidate: &str) -> f64 {
    if input.is_empty() || input.len() > 200 {
        return 0.0;
    }
    if input == candidate {
        return 3.0;
    }
    let jaro_winkler = strsim::jaro_winkler(input, candidate);
    let allowed_edits = (input.chars().count() / 4).max(1);
    let edits = strsim::damerau_levenshtein(input, candidate);
    let affix = |long: &str, short: &str| {
        short.chars().count() >= 2
            && long
                .strip_prefix(short)
                .is_some_and(|rest| rest.starts_with(['_', '-']))
    };
    if edits <= allowed_edits && input.chars().count() > 2 {
        2.0 + jaro_winkler
    } else if jaro_winkler >= 0.88 || affix(candidate, input) || affix(input, candidate) {
        1.0 + jaro_winkler
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    const SECTIONS: [&str; 7] = [
        "commands",
        "pipeline",
        "runner",
        "environments",
        "drift",
        "merge_queue",
        "notify",
    ];

    #[test]
    fn typos_get_the_intended_key() {
        assert_eq!(did_you_mean("merge_qeue", SECTIONS), Some("merge_queue"));
        assert_eq!(did_you_mean("enviroments", SECTIONS), Some("environments"));
        assert_eq!(did_you_mean("pipelines", SECTIONS), Some("pipeline"));
        assert_eq!(did_you_mean("Runner", SECTIONS), Some("runner"));
        assert_eq!(did_you_mean("mergequeue", SECTIONS), Some("merge_queue"));
    }

    #[test]
    fn prefixes_at_a_word_boundary_count() {
        assert_eq!(
            did_you_mean("drift", ["drift_detected", "promoted"]),
            Some("drift_detected")
        );
        assert_eq!(did_you_mean("pr_number", ["pr", "sha", "env"]), Some("pr"));
    }

    #[test]
    fn nothing_close_means_no_guess() {
        assert_eq!(did_you_mean("colour", SECTIONS), None);
        assert_eq!(did_you_mean("ttl", ["url", "branch"]), None);
        assert_eq!(did_you_mean("x", SECTIONS), None);
    }
}
