//! Commands as argument lists.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// A command to run: the program, then its arguments, passed to the OS as they are.
///
/// Never a string: a string would need a shell to split it, and a shell would interpolate
/// `$(…)` and friends (design principle 4). Values a pull request controls reach the command
/// as `GITFERRY_*` environment variables instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argv(Vec<String>);

impl Argv {
    /// The program to run (the first element; never empty).
    pub fn program(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[String] {
        self.0.get(1..).unwrap_or_default()
    }

    /// The whole list, program first.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl TryFrom<Vec<String>> for Argv {
    type Error = &'static str;

    fn try_from(argv: Vec<String>) -> Result<Self, Self::Error> {
        match argv.first() {
            None => Err("a command needs at least the program to run, e.g. [make, test]"),
            Some(program) if program.trim().is_empty() => Err("the program name is empty"),
            Some(_) if argv.iter().any(|arg| arg.contains('\0')) => {
                Err("an argument cannot contain a NUL character")
            }
            Some(_) => Ok(Self(argv)),
        }
    }
}

impl<'de> Deserialize<'de> for Argv {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ArgvVisitor)
    }
}

struct ArgvVisitor;

impl<'de> Visitor<'de> for ArgvVisitor {
    type Value = Argv;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of arguments such as [make, test]")
    }

    fn visit_str<E: de::Error>(self, command: &str) -> Result<Argv, E> {
        Err(E::custom(string_hint(command)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Argv, A::Error> {
        let mut argv = Vec::new();
        while let Some(arg) = seq.next_element::<String>()? {
            argv.push(arg);
        }
        Argv::try_from(argv).map_err(de::Error::custom)
    }
}

/// The message for `run: "make test"`: why a string is refused, and the list to write instead.
fn string_hint(command: &str) -> String {
    const WHY: &str = "a command is a list of arguments, not a string (a string would invite \
                       shell interpolation)";
    let words: Vec<&str> = command.split_whitespace().collect();
    if words.is_empty() || command.len() > 200 {
        return format!("{WHY}; write it as a list: [program, arg, …]");
    }
    let list = words
        .iter()
        .map(|word| flow_item(word))
        .collect::<Vec<_>>()
        .join(", ");
    let shell = command.chars().any(|c| "|&;<>$`\"'()*?\\".contains(c));
    let advice = if shell {
        " (pipes, redirections and quoting need a shell: put them in a script and run that)"
    } else {
        ""
    };
    format!("{WHY}; write it as a list: [{list}]{advice}")
}

/// One element of a YAML flow list, quoted when YAML would otherwise misread it.
fn flow_item(word: &str) -> Cow<'_, str> {
    let special = word.chars().any(|c| ",[]{}#&*!|>'\"%@`:".contains(c));
    if special {
        Cow::Owned(format!("'{}'", word.replace('\'', "''")))
    } else {
        Cow::Borrowed(word)
    }
}

impl JsonSchema for Argv {
    fn schema_name() -> Cow<'static, str> {
        "Argv".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "description": "A command as a list: the program, then its arguments. Never a \
                            string, so no shell ever interprets it.",
            "items": { "type": "string" },
            "minItems": 1,
            "examples": [["make", "test"]]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_command_gets_the_list_to_write_instead() {
        assert_eq!(
            string_hint("make test"),
            "a command is a list of arguments, not a string (a string would invite shell \
             interpolation); write it as a list: [make, test]"
        );
    }

    #[test]
    fn shell_syntax_gets_advice_to_use_a_script() {
        let hint = string_hint("make test | tee log");
        assert!(
            hint.ends_with("put them in a script and run that)"),
            "{hint}"
        );
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert!(Argv::try_from(Vec::new()).is_err());
        assert!(Argv::try_from(vec![String::new()]).is_err());
    }
}
