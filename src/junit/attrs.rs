//! Reading the attributes of one element into owned, length-capped strings, so the parser's
//! state never borrows from the XML reader's buffer and never holds an absurdly long value.

use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;
use std::time::Duration;

use crate::report::units::prefix_bytes;

/// The attributes of a JUnit element that gitferry reads; the rest are skipped unparsed.
#[derive(Default)]
pub(crate) struct Attrs {
    pub name: Option<String>,
    pub classname: Option<String>,
    pub time: Option<Duration>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub message: Option<String>,
}

/// The known attributes of `element`, each cut to `max` bytes. An attribute the XML reader
/// cannot parse (no quotes, a bad escape) is an error: the report is malformed there.
pub(crate) fn read(element: &BytesStart<'_>, max: usize) -> Result<Attrs, String> {
    let mut out = Attrs::default();
    for attr in element.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        let key = attr.key.local_name();
        let slot = match key.as_ref() {
            "name" => &mut out.name,
            "classname" => &mut out.classname,
            "file" => &mut out.file,
            "message" => &mut out.message,
            "time" | "line" => {
                let value = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| format!("bad attribute value: {e}"))?;
                if key.as_ref() == "time" {
                    out.time = parse_time(&value);
                } else {
                    out.line = value.trim().parse().ok();
                }
                continue;
            }
            _ => continue,
        };
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value: {e}"))?;
        *slot = Some(prefix_bytes(&value, max).to_owned());
    }
    Ok(out)
}

/// Seconds as JUnit writers print them: `0.001`, `12`, and Surefire's `1,234.5` past a
/// thousand. Anything else (negative, `NaN`, empty) counts as unknown rather than an error:
/// a bad time should not hide a report's failures.
pub(crate) fn parse_time(value: &str) -> Option<Duration> {
    let cleaned: String = value.trim().chars().filter(|&c| c != ',').collect();
    let secs: f64 = cleaned.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_time_formats_writers_use() {
        assert_eq!(parse_time("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_time(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_time("1,234.5"),
            Some(Duration::from_millis(1_234_500))
        );
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("NaN"), None);
        assert_eq!(parse_time(""), None);
    }
}
