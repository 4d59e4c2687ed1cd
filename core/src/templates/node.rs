//! A template as a tree of values that remember the line they start on, so
//! that every result can point at what opens a group. JSON and YAML
//! templates both become this tree; YAML's short-form tags are already in
//! their long form here (`!Ref x` is `{"Ref": "x"}`).

use std::fmt;

/// How deep a template may nest: deeper is refused rather than walked.
pub const MAX_DEPTH: usize = 256;

/// A value and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub value: Value,
}

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A JSON number, as written.
    Number(String),
    /// A string. `plain` is a YAML plain (unquoted) scalar, which YAML 1.1
    /// reads as a number where a number is wanted (`010` is 8).
    Text {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Members in the order written; keys are unique (duplicates are refused).
    Map(Vec<(Key, Node)>),
}

/// A mapping key and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub text: String,
    pub line: u32,
}

/// A template that cannot be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TemplateError {
    pub line: u32,
    pub message: String,
}

impl TemplateError {
    pub fn new(line: u32, message: impl Into<String>) -> Self {
        TemplateError {
            line,
            message: message.into(),
        }
    }
}

impl Node {
    pub fn new(line: u32, value: Value) -> Self {
        Node { line, value }
    }

    /// A string node (for long forms built from short ones).
    pub fn text(line: u32, text: impl Into<String>) -> Self {
        Node::new(
            line,
            Value::Text {
                text: text.into(),
                plain: false,
            },
        )
    }

    /// The member `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(members) => members.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key of member `key`, with its line.
    pub fn key(&self, key: &str) -> Option<&Key> {
        match &self.value {
            Value::Map(members) => members.iter().find(|(k, _)| k.text == key).map(|(k, _)| k),
            _ => None,
        }
    }

    pub fn members(&self) -> &[(Key, Node)] {
        match &self.value {
            Value::Map(members) => members,
            _ => &[],
        }
    }

    pub fn elements(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A mapping of exactly one member, as intrinsic functions are
    /// (`{"Fn::If": [...]}`): its name and argument.
    pub fn function(&self) -> Option<(&str, &Node)> {
        match &self.value {
            Value::Map(members) if members.len() == 1 => {
                let (key, value) = &members[0];
                let name = key.text.as_str();
                (name == "Ref" || name == "Condition" || name.starts_with("Fn::"))
                    .then_some((name, value))
            }
            _ => None,
        }
    }

    /// A scalar as the text CloudFormation compares (`true`, `22`, `tcp`).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Text { text, .. } => Some(text.clone()),
            Value::Number(n) => Some(n.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A whole number, as a port or protocol number is read: a JSON integer
    /// (or integral float), a string of digits, or a YAML 1.1 plain integer
    /// (`010` octal, `0x1F` hex, `1_000`).
    pub fn integer(&self) -> Option<i64> {
        match &self.value {
            Value::Number(n) => n.parse::<i64>().ok().or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            }),
            Value::Text { text, plain: true } => yaml11_integer(text),
            Value::Text { text, plain: false } => text.trim().parse::<i64>().ok(),
            _ => None,
        }
    }
}

/// A YAML 1.1 integer: decimal, `0` octal, `0x` hex, `0b` binary, with
/// optional sign and `_` separators.
pub fn yaml11_integer(text: &str) -> Option<i64> {
    let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    if digits.is_empty() {
        return None;
    }
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(binary) = digits.strip_prefix("0b") {
        i64::from_str_radix(binary, 2).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -value } else { value })
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(n),
            Value::Text { text, .. } => write!(f, "{text:?}"),
            Value::Seq(_) => f.write_str("a list"),
            Value::Map(_) => f.write_str("a mapping"),
        }
    }
}
