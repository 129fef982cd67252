//! `gitferry config schema`: the JSON Schema of the config, for editors' autocompletion.

use super::model::RepoConfig;

/// The JSON Schema (draft 2020-12) of `.github/gitferry.yml`, pretty-printed. Descriptions come
/// from the types' doc comments, so the schema and the code cannot disagree.
///
/// Editors that speak the YAML language server pick it up with a first line such as
/// `# yaml-language-server: $schema=<url of this file>`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RepoConfig);
    format!("{:#}", schema.as_value())
}
