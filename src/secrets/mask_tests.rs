use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use proptest::prelude::*;

use super::*;

const TOKEN: &str = "ghs_s3cr3t/T0ken+value=";

fn masker() -> Masker {
    Masker::new([TOKEN])
}

#[test]
fn a_value_printed_as_it_is_is_masked() {
    let out = masker()
        .mask(&format!("token is {TOKEN}, twice: {TOKEN}\n"))
        .into_owned();
    assert_eq!(out, "token is ***, twice: ***\n");
}

#[test]
fn text_without_secrets_is_left_alone() {
    let text = "building… 3 tests passed ✓";
    assert!(matches!(masker().mask(text), Cow::Borrowed(_)));
    assert_eq!(Masker::default().mask(text), text);
}

#[test]
fn the_url_encoded_forms_are_masked() {
    let masker = Masker::new(["p@ss word/+&="]);
    for encoded in ["p%40ss%20word%2F%2B%26%3D", "p%40ss+word%2F%2B%26%3D"] {
        let out = masker
            .mask(&format!("GET /login?pw={encoded}&x=1"))
            .into_owned();
        assert_eq!(out, "GET /login?pw=***&x=1", "{encoded}");
    }
}

#[test]
fn the_base64_of_a_value_is_masked_at_every_alignment() {
    for prefix in ["", "a", "ab", "abc", "user:"] {
        for encode in [|b: &[u8]| STANDARD.encode(b), |b: &[u8]| URL_SAFE.encode(b)] {
            let encoded = encode(format!("{prefix}{TOKEN}!").as_bytes());
            let out = masker().mask(&encoded).into_owned();
            assert!(out.contains(MASK), "{prefix:?}: {encoded} -> {out}");
            // What is left around the mask is at most the few characters the neighbours share.
            let visible = out.replace(MASK, "");
            assert!(visible.len() <= encoded.len() - 24, "{prefix:?}: {out}");
        }
    }
}

#[test]
fn an_http_basic_header_does_not_leak_the_password() {
    let masker = Masker::new(["hunter2-correct-horse"]);
    let header = STANDARD.encode("deploy:hunter2-correct-horse");
    let out = masker
        .mask(&format!("Authorization: Basic {header}"))
        .into_owned();
    assert!(out.contains(MASK), "{out}");
    assert!(!out.contains(&STANDARD.encode("hunter2-correct-horse")[4..12]));
}

#[test]
fn overlapping_values_become_one_mask() {
    let masker = Masker::new(["abcdef", "defghi"]);
    assert_eq!(masker.mask("xx abcdefghi yy"), "xx *** yy");
    let repeated = Masker::new(["aaaa"]);
    assert_eq!(repeated.mask("aaaaa b"), "*** b");
}

#[test]
fn each_line_of_a_multi_line_value_is_masked() {
    let key = "-----BEGIN KEY-----\nMIIEabcdefghij\nklmnopqrstuv==\n-----END KEY-----\n";
    let masker = Masker::new([key]);
    // A log that shows the key line by line, with the runner's own line breaks.
    let out = masker.mask("key:\r\nMIIEabcdefghij\r\nklmnopqrstuv==\r\ndone");
    assert_eq!(out, "key:\r\n***\r\n***\r\ndone");
}

#[test]
fn short_values_are_not_masked() {
    let masker = Masker::new(["", "1", "yes", "true"]);
    assert_eq!(masker.mask("yes 1 true"), "yes 1 ***");
    assert!(Masker::new(["", "ab"]).is_empty());
}

#[test]
fn a_value_split_across_chunks_is_masked() {
    let mut stream = StreamMasker::new(masker());
    let text = format!("echo {TOKEN} done\n");
    let (a, b) = text.split_at(12);
    let mut out = stream.push(a);
    assert!(!out.contains("ghs_"), "held back: {out:?}");
    out.push_str(&stream.push(b));
    out.push_str(&stream.finish());
    assert_eq!(out, "echo *** done\n");
}

#[test]
fn a_stream_passes_on_what_cannot_start_a_secret() {
    let mut stream = StreamMasker::new(Masker::new(["abcdefgh"]));
    let out = stream.push("0123456789");
    // The longest pattern minus one character is held back, no more.
    assert_eq!(out, "012");
    assert_eq!(format!("{out}{}", stream.finish()), "0123456789");
    let mut plain = StreamMasker::new(Masker::default());
    assert_eq!(plain.push("no secrets"), "no secrets");
}

#[test]
fn a_stream_ending_on_a_partial_value_shows_only_that_part() {
    let mut stream = StreamMasker::new(Masker::new(["abcdefgh"]));
    let mut out = stream.push("x abcd");
    out.push_str(&stream.finish());
    assert_eq!(out, "x abcd");
}

#[test]
fn multibyte_text_is_never_cut_inside_a_character() {
    let mut stream = StreamMasker::new(Masker::new(["ünïcödé-sécret"]));
    let mut out = String::new();
    for chunk in ["naïve ✓✓✓ ünïc", "ödé-séc", "ret ✓ end"] {
        out.push_str(&stream.push(chunk));
    }
    out.push_str(&stream.finish());
    assert_eq!(out, "naïve ✓✓✓ *** ✓ end");
}

proptest! {
    /// However the output is cut into chunks, the streamed result is the whole text masked.
    #[test]
    fn streaming_equals_masking_the_whole(
        noise in "[a-z0-9 ]{0,40}",
        cuts in proptest::collection::vec(0usize..200, 0..8),
    ) {
        let masker = Masker::new(["s3cret-value", "value-two"]);
        let text = format!("{noise}s3cret-value-two {noise} dmFsdWUtdHdv {noise}");
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (text.len() + 1)).collect();
        points.sort_unstable();
        let mut stream = StreamMasker::new(masker.clone());
        let mut out = String::new();
        let mut at = 0;
        for point in points {
            out.push_str(&stream.push(&text[at..point]));
            at = point;
        }
        out.push_str(&stream.push(&text[at..]));
        out.push_str(&stream.finish());
        prop_assert_eq!(out, masker.mask(&text).into_owned());
    }
}
