//! `docs/config.md` stays true: every YAML example in it is a valid config.

use crate::repo_config::parse;

const DOC: &str = include_str!("../../../docs/config.md");

/// The ```yaml blocks of the page, with the line each starts on.
fn yaml_blocks() -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (number, line) in DOC.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some((number + 2, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, text)), line) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_example_in_the_reference_is_valid() {
    let blocks = yaml_blocks();
    assert!(blocks.len() >= 8, "only {} yaml blocks", blocks.len());
    for (line, block) in blocks {
        if let Err(errors) = parse(&block) {
            panic!("docs/config.md, block at line {line}:\n{errors}\n---\n{block}");
        }
    }
}

#[test]
fn the_reference_mentions_every_key() {
    let schema: serde_json::Value =
        serde_json::from_str(&crate::repo_config::json_schema()).unwrap();
    let mut keys = Vec::new();
    collect_keys(&schema, &mut keys);
    let missing: Vec<&String> = keys
        .iter()
        .filter(|key| !DOC.contains(&format!("`{key}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/config.md does not mention: {missing:?}"
    );
}

fn collect_keys(value: &serde_json::Value, keys: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                keys.extend(properties.keys().cloned());
            }
            map.values().for_each(|child| collect_keys(child, keys));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|child| collect_keys(child, keys)),
        _ => {}
    }
}
