//! What is wrong with an input, and where: `configurationItems[0].configuration.ipPermissionsEgress[2].fromPort`.
//!
//! The reader deserializes with plain serde first (the fast path); only when
//! that fails does it read the document again with `serde_path_to_error` to
//! learn the path. Messages are worded here, in one place: serde's
//! "invalid type: map, expected an array" becomes "expected an array, found
//! an object", and an error found inside a value that was itself JSON text
//! (a double-encoded `configuration`) carries its own inner path, which is
//! joined to the outer one.

/// An input that cannot be read: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Where in the document, e.g. `SecurityGroups[0].IpPermissionsEgress[1].FromPort`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl ReadError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ReadError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ReadError {}

/// Marks a message that carries a path inside the value it was found in
/// (`\u{1}inner.path\u{1}message`); [`join`] turns it into a path.
const MARK: char = '\u{1}';

/// A serde error message for an error at `inner_path` below the value being
/// read (empty: the value itself).
pub(crate) fn nested(inner_path: &str, message: &str) -> String {
    format!("{MARK}{inner_path}{MARK}{message}")
}

/// The human name of what serde found, from its `Unexpected` wording.
fn found(unexpected: &str) -> String {
    let named = [
        ("boolean", "a boolean"),
        ("integer", "a number"),
        ("floating point", "a number"),
        ("string", "a string"),
        ("unit value", "null"),
        ("null", "null"),
        ("sequence", "an array"),
        ("map", "an object"),
    ];
    named
        .iter()
        .find(|(prefix, _)| unexpected.starts_with(prefix))
        .map_or_else(|| unexpected.to_string(), |(_, name)| name.to_string())
}

/// A serde error message, worded for people: no position (the path says
/// where), "expected X, found Y", and the words of this tool.
pub(crate) fn reword(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => &message[..at],
        _ => message,
    };
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    {
        if let Some((unexpected, expected)) = rest.split_once(", expected ") {
            let expected = match expected {
                "a sequence" => "an array",
                "a map" => "an object",
                other => other,
            };
            return format!("expected {expected}, found {}", found(unexpected));
        }
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|f| f.strip_suffix('`'))
    {
        return format!("{field} is missing");
    }
    message.to_string()
}

/// The path and message of a data error found at `outer` (serde_path_to_error's
/// path, `.` at the root), joining an inner path carried in the message.
pub(crate) fn locate(root: &str, outer: &str, message: &str) -> ReadError {
    let mut path = String::from(root);
    let mut push = |segment: &str| {
        if segment.is_empty() || segment == "." {
            return;
        }
        if !path.is_empty() && !segment.starts_with('[') {
            path.push('.');
        }
        path.push_str(segment);
    };
    push(outer);
    let mut message = message;
    while let Some(rest) = message.strip_prefix(MARK) {
        let Some((inner, text)) = rest.split_once(MARK) else {
            break;
        };
        push(inner);
        message = text;
    }
    if path.is_empty() {
        path.push_str("(input)");
    }
    ReadError::new(path, reword(message))
}

/// A path segment list as serde_path_to_error prints it, for `locate`.
pub(crate) fn path_text(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." {
        String::new()
    } else {
        text
    }
}
