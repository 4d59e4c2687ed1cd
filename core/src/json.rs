//! Path-aware reading of untyped JSON.
//!
//! Every input shape is read through [`Node`], which remembers where it is in
//! the document so that a value of the wrong type produces an error naming the
//! exact field (`configurationItem.configuration.ipPermissionsEgress[2].fromPort`).
//! The path is only built when an error is reported.

use serde_json::Value;
use std::fmt;

/// A value of the wrong type, or a required value that is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InputError {
    /// Where in the document, e.g. `SecurityGroups[0].IpPermissionsEgress[1].FromPort`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

/// A JSON value together with its location in the document.
#[derive(Clone, Copy)]
pub struct Node<'v, 'p> {
    pub value: &'v Value,
    parent: Option<&'p Node<'v, 'p>>,
    segment: Segment<'p>,
}

/// An integral float (`22.0`, as Config advanced queries give ports).
pub fn integer_from_float(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64)
}

/// A string of decimal digits, optionally negative (`"22"`, as CloudFormation gives ports).
pub fn integer_from_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid =
        !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| t.parse::<i64>().expect("validated digits"))
}

/// Human name of a JSON value's type, for error messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'v, 'p> Node<'v, 'p> {
    /// The document's root; `name` prefixes every path (may be empty).
    pub fn root(value: &'v Value, name: &'p str) -> Self {
        Node {
            value,
            parent: None,
            segment: Segment::Root(name),
        }
    }

    /// The path of this node, e.g. `configurationItem.tags`.
    pub fn path(&self) -> String {
        let mut segments = Vec::new();
        let mut node = Some(self);
        while let Some(n) = node {
            segments.push(n.segment);
            node = n.parent;
        }
        let mut out = String::new();
        for segment in segments.iter().rev() {
            match segment {
                Segment::Root(name) => out.push_str(name),
                Segment::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        if out.is_empty() {
            out.push_str("(input)");
        }
        out
    }

    pub fn error(&self, message: impl fmt::Display) -> InputError {
        InputError::new(self.path(), message.to_string())
    }

    fn wrong_type(&self, expected: &str) -> InputError {
        self.error(format!(
            "expected {expected}, found {}",
            type_name(self.value)
        ))
    }

    /// The member `key` of this object; `None` when this is not an object, the
    /// member is missing, or it is `null` (AWS omits and nulls interchangeably).
    pub fn get<'s>(&'s self, key: &'s str) -> Option<Node<'v, 's>> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Node {
                value,
                parent: Some(self),
                segment: Segment::Key(key),
            }),
        }
    }

    /// Like [`Node::get`], trying each spelling of the key in turn.
    pub fn get_any<'s>(&'s self, keys: &[&'s str]) -> Option<Node<'v, 's>> {
        keys.iter().find_map(|key| self.get(key))
    }

    pub fn has(&self, key: &str) -> bool {
        self.value.get(key).is_some()
    }

    /// The elements of this array.
    pub fn elements<'s>(&'s self) -> Result<impl Iterator<Item = Node<'v, 's>> + 's, InputError> {
        match self.value {
            Value::Array(items) => Ok(items.iter().enumerate().map(move |(i, value)| Node {
                value,
                parent: Some(self),
                segment: Segment::Index(i),
            })),
            _ => Err(self.wrong_type("an array")),
        }
    }

    /// Calls `f` on each element of the optional array member `key`: a missing
    /// or null array is empty; anything else that is not an array is an error.
    pub fn each_in<F>(&self, key: &str, mut f: F) -> Result<(), InputError>
    where
        F: FnMut(Node<'v, '_>) -> Result<(), InputError>,
    {
        if let Some(array) = self.get(key) {
            for element in array.elements()? {
                f(element)?;
            }
        }
        Ok(())
    }

    pub fn as_object(&self) -> Result<&'v serde_json::Map<String, Value>, InputError> {
        self.value
            .as_object()
            .ok_or_else(|| self.wrong_type("an object"))
    }

    pub fn as_str(&self) -> Result<&'v str, InputError> {
        self.value
            .as_str()
            .ok_or_else(|| self.wrong_type("a string"))
    }

    /// A boolean, or the strings `true`/`false` in any case.
    pub fn as_bool(&self) -> Result<bool, InputError> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(self.wrong_type("true or false")),
        }
    }

    /// An integer given as a JSON integer, an integral float (`22.0`) or a
    /// string of digits (`"22"`).
    pub fn as_integer(&self) -> Result<i64, InputError> {
        match self.value {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(i)
                } else {
                    n.as_f64()
                        .and_then(integer_from_float)
                        .ok_or_else(|| self.error(format!("expected an integer, found {n}")))
                }
            }
            Value::String(s) => integer_from_text(s)
                .ok_or_else(|| self.error(format!("expected an integer, found the string {s:?}"))),
            _ => Err(self.wrong_type("an integer")),
        }
    }
}

impl<'v, 'p> Node<'v, 'p> {
    /// A timestamp as an ISO-8601 string (`2026-11-26T15:06:37.744Z`) or as
    /// epoch seconds (the SDK's JSON form, possibly fractional).
    pub fn as_timestamp(&self) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
        use chrono::{DateTime, Utc};
        match self.value {
            Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    self.error(format!("expected an ISO-8601 timestamp, found {s:?} ({e})"))
                }),
            Value::Number(n) => {
                let seconds = n.as_f64().unwrap_or(f64::NAN);
                if !(0.0..=253_402_300_799.0).contains(&seconds) {
                    return Err(self.error(format!("expected epoch seconds, found {n}")));
                }
                // AWS's epoch times carry milliseconds; a double holds
                // 1414708529.922 as 1414708529.9219999, so round to them.
                let millis = (seconds * 1000.0).round() as i64;
                DateTime::<Utc>::from_timestamp_millis(millis)
                    .ok_or_else(|| self.error(format!("expected epoch seconds, found {n}")))
            }
            _ => Err(self.wrong_type("a timestamp (ISO-8601 string or epoch seconds)")),
        }
    }

    /// An object, or a string holding the JSON text of one (Config
    /// double-encodes `configuration`, `invokingEvent`, query results).
    /// Returns the decoded value when it had to decode.
    pub fn decode_if_string(&self) -> Result<Option<Value>, InputError> {
        match self.value {
            Value::String(text) => serde_json::from_str::<Value>(text).map(Some).map_err(|e| {
                self.error(format!(
                    "expected JSON text inside this string, but it does not parse: {e}"
                ))
            }),
            _ => Ok(None),
        }
    }
}
