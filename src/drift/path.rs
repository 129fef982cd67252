//! Where in an object a difference is: as a JSON pointer (for machines and ignore rules) and as
//! a label a person reads in a comment (`spec.template.spec.containers[name=web].image`).

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::Value;

/// One step down into an object. Borrowed from the values being compared, so walking an
/// in-sync object allocates nothing for its paths.
#[derive(Clone, Debug)]
pub(crate) enum Seg<'a> {
    Field(&'a str),
    /// A list item: `index` in the desired list (in the live one for an item only live has),
    /// and how items of this list are matched, which is how a person can find it again.
    Item {
        index: usize,
        item: &'a Value,
        by: By,
    },
}

/// How the items of a list are matched between desired and live.
#[derive(Clone, Debug)]
pub(crate) enum By {
    /// By position.
    Index,
    /// By the values of these fields (a merge key: containers by `name`, ports by
    /// `containerPort` and `protocol`).
    Keys(Rc<[String]>),
    /// By the item itself (a set of scalars, such as `finalizers`).
    Value,
}

/// `path` as a JSON pointer (RFC 6901), list items by index.
pub(crate) fn pointer(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            Seg::Field(name) => out.push_str(&name.replace('~', "~0").replace('/', "~1")),
            Seg::Item { index, .. } => {
                let _ = write!(out, "{index}");
            }
        }
    }
    out
}

/// `path` as a person reads it: dotted field names, a key that is not a plain word in brackets
/// and quotes, a list item by its merge key when it has one.
pub(crate) fn label(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Field(name) if is_word(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Seg::Field(name) => {
                let _ = write!(out, "[{}]", Value::from(*name));
            }
            Seg::Item {
                index,
                by: By::Index,
                ..
            } => {
                let _ = write!(out, "[{index}]");
            }
            Seg::Item {
                item,
                by: By::Value,
                ..
            } => {
                let _ = write!(out, "[value={}]", shown(item));
            }
            Seg::Item {
                item,
                by: By::Keys(keys),
                ..
            } => {
                let fields: Vec<String> = keys
                    .iter()
                    .filter_map(|k| item.get(k).map(|v| format!("{k}={}", shown(v))))
                    .collect();
                let _ = write!(out, "[{}]", fields.join(","));
            }
        }
    }
    if out.is_empty() {
        out.push_str("(the whole object)");
    }
    out
}

/// Whether `path` is exactly the pointer whose reference tokens are `tokens`.
pub(crate) fn is_at(path: &[Seg<'_>], tokens: &[String]) -> bool {
    path.len() == tokens.len()
        && path.iter().zip(tokens).all(|(seg, token)| match seg {
            Seg::Field(name) => name == token,
            Seg::Item { index, .. } => token.parse::<usize>().ok() == Some(*index),
        })
}

fn is_word(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A key value as written in a label: a string bare, anything else as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_container_image_reads_by_the_container_name_and_points_by_index() {
        let web = json!({"name": "web", "image": "shop:1"});
        let path = [
            Seg::Field("spec"),
            Seg::Field("containers"),
            Seg::Item {
                index: 1,
                item: &web,
                by: By::Keys(Rc::from(vec!["name".to_owned()])),
            },
            Seg::Field("image"),
        ];
        assert_eq!(pointer(&path), "/spec/containers/1/image");
        assert_eq!(label(&path), "spec.containers[name=web].image");
    }

    #[test]
    fn an_annotation_key_with_a_slash_is_escaped_in_the_pointer_and_quoted_in_the_label() {
        let path = [
            Seg::Field("metadata"),
            Seg::Field("annotations"),
            Seg::Field("checksum/config"),
        ];
        assert_eq!(pointer(&path), "/metadata/annotations/checksum~1config");
        assert_eq!(label(&path), "metadata.annotations[\"checksum/config\"]");
        assert!(is_at(
            &path,
            &[
                "metadata".into(),
                "annotations".into(),
                "checksum/config".into()
            ]
        ));
    }
}
