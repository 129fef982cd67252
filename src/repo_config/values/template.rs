//! Templates for namespaces and URLs: `shop-pr-{pr}`, `https://shop-pr-{pr}.example.com`.
//!
//! Deliberately tiny (placeholder substitution, nothing else) rather than a template engine:
//! these strings name namespaces and links, and must never become a place where logic, loops or
//! a shell could run.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::shown;
use crate::repo_config::load::did_you_mean;

/// The values a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Placeholder {
    /// `{pr}`: the pull request's number (preview environments only).
    Pr,
    /// `{sha}`: the full commit SHA being deployed.
    Sha,
    /// `{short_sha}`: its first 7 characters.
    ShortSha,
    /// `{branch}`: the branch as a slug (lower-case `a-z0-9-`, at most 63 characters).
    Branch,
    /// `{env}`: the environment's name.
    Env,
}

impl Placeholder {
    /// Every placeholder, in the order the docs list them.
    pub const ALL: [Placeholder; 5] =
        [Self::Pr, Self::Sha, Self::ShortSha, Self::Branch, Self::Env];

    /// The name written between braces.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pr => "pr",
            Self::Sha => "sha",
            Self::ShortSha => "short_sha",
            Self::Branch => "branch",
            Self::Env => "env",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder(Placeholder),
}

/// A string with `{placeholder}`s; `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// The values to fill a template with. `branch` is the raw branch name; rendering slugs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateValues<'a> {
    pub pr: Option<u64>,
    pub sha: &'a str,
    pub branch: &'a str,
    pub env: &'a str,
}

impl Template {
    /// Parses a template, refusing unknown placeholders and unbalanced braces.
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|&(_, next)| next == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|&(_, next)| next == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = source.get(at + 1..).unwrap_or_default();
                    let Some(end) = rest.find('}') else {
                        return Err("`{` is never closed; write `{{` for a literal brace".into());
                    };
                    let name = rest.get(..end).unwrap_or_default();
                    let placeholder = Placeholder::from_name(name).ok_or_else(|| unknown(name))?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder(placeholder));
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                '}' => return Err("`}` without `{`; write `}}` for a literal brace".into()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The placeholders the template uses, in order (with repeats).
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Placeholder(p) => Some(*p),
            Part::Literal(_) => None,
        })
    }

    /// Whether the template uses `placeholder`.
    pub fn uses(&self, placeholder: Placeholder) -> bool {
        self.placeholders().any(|p| p == placeholder)
    }

    /// The literal text between placeholders (escapes already resolved).
    pub fn literals(&self) -> impl Iterator<Item = &str> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Literal(text) => Some(text.as_str()),
            Part::Placeholder(_) => None,
        })
    }

    /// Fills the placeholders. `{pr}` is empty without a pull request (validation keeps `{pr}`
    /// to preview environments); `{branch}` is slugged so a branch name a PR author chose
    /// cannot put `/`, `..` or spaces into a namespace or a host name.
    pub fn render(&self, values: &TemplateValues<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Placeholder(Placeholder::Pr) => {
                    if let Some(pr) = values.pr {
                        out.push_str(&pr.to_string());
                    }
                }
                Part::Placeholder(Placeholder::Sha) => out.push_str(values.sha),
                Part::Placeholder(Placeholder::ShortSha) => {
                    out.extend(values.sha.chars().take(7));
                }
                Part::Placeholder(Placeholder::Branch) => out.push_str(&branch_slug(values.branch)),
                Part::Placeholder(Placeholder::Env) => out.push_str(values.env),
            }
        }
        out
    }
}

fn unknown(name: &str) -> String {
    let known = Placeholder::ALL.map(|p| p.to_string()).join(", ");
    let names = Placeholder::ALL.map(Placeholder::name);
    match did_you_mean(name.trim(), names) {
        Some(close) => format!(
            "unknown placeholder `{{{}}}`; did you mean `{{{close}}}`?",
            shown(name)
        ),
        None => format!(
            "unknown placeholder `{{{}}}`; the known ones are {known}",
            shown(name)
        ),
    }
}

/// A branch name as a DNS-label-safe slug: lower case, runs of anything but `a-z0-9` become one
/// `-`, trimmed of `-`, at most 63 characters.
pub fn branch_slug(branch: &str) -> String {
    let mut slug = String::new();
    for c in branch.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(63).collect();
    slug.trim_end_matches('-').to_owned()
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Self::parse(&source).map_err(de::Error::custom)
    }
}

impl JsonSchema for Template {
    fn schema_name() -> Cow<'static, str> {
        "Template".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Text with placeholders: {pr}, {sha}, {short_sha}, {branch}, {env}. \
                            Write {{ and }} for literal braces."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> TemplateValues<'static> {
        TemplateValues {
            pr: Some(42),
            sha: "0123456789abcdef",
            branch: "Feature/Login..Page",
            env: "preview",
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let template = Template::parse("shop-pr-{pr}-{short_sha}.{env}/{branch}").unwrap();
        assert_eq!(
            template.render(&values()),
            "shop-pr-42-0123456.preview/feature-login-page"
        );
    }

    #[test]
    fn double_braces_are_literal() {
        let template = Template::parse("{{pr}} is {pr}").unwrap();
        assert_eq!(template.render(&values()), "{pr} is 42");
        assert_eq!(
            template.placeholders().collect::<Vec<_>>(),
            [Placeholder::Pr]
        );
    }

    #[test]
    fn unknown_placeholders_are_named_with_a_suggestion() {
        assert_eq!(
            Template::parse("shop-{pr_number}").unwrap_err(),
            "unknown placeholder `{pr_number}`; did you mean `{pr}`?"
        );
        assert_eq!(
            Template::parse("shop-{color}").unwrap_err(),
            "unknown placeholder `{color}`; the known ones are {pr}, {sha}, {short_sha}, \
             {branch}, {env}"
        );
    }

    #[test]
    fn unbalanced_braces_are_refused() {
        assert!(Template::parse("shop-{pr").is_err());
        assert!(Template::parse("shop-}").is_err());
    }

    #[test]
    fn branch_slugs_are_dns_safe() {
        assert_eq!(branch_slug("$(touch /tmp/pwned)"), "touch-tmp-pwned");
        assert_eq!(branch_slug("---"), "");
        assert_eq!(branch_slug(&"a".repeat(100)).len(), 63);
    }
}
