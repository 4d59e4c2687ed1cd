//! YAML templates into the positioned [`Node`] tree, as CloudFormation
//! reads them: short-form tags become long form (`!Ref x` → `{"Ref": "x"}`,
//! `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`, `!Condition` →
//! `{"Condition": …}`, every other `!Name` → `{"Fn::Name": …}`), and what
//! CloudFormation refuses is refused: anchors and aliases, `<<` merge keys,
//! more than one document, duplicate keys.
//!
//! `saphyr-parser` (a YAML 1.2 event parser with a position on every event
//! and the tags kept) is the reader; the tree is built here without
//! recursion, so a deep document cannot overflow the stack.

use super::node::{Key, Node, TemplateError, Value, MAX_DEPTH};
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use std::collections::HashSet;

/// A collection being built.
enum Open {
    Seq {
        line: u32,
        tag: Option<String>,
        items: Vec<Node>,
    },
    Map {
        line: u32,
        tag: Option<String>,
        members: Vec<(Key, Node)>,
        keys: HashSet<String>,
        /// The key read, waiting for its value.
        pending: Option<Key>,
    },
}

/// Reads one YAML document.
pub fn read_yaml(text: &str) -> Result<Node, TemplateError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            TemplateError::new(
                u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
                format!("not valid YAML: {}", e.info()),
            )
        })?;
        let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
        let done: Option<Node> = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(TemplateError::new(
                        line,
                        "more than one YAML document (CloudFormation reads one)",
                    ));
                }
                None
            }
            Event::Alias(_) => {
                return Err(TemplateError::new(
                    line,
                    "YAML aliases are not allowed in CloudFormation templates",
                ))
            }
            Event::Scalar(value, style, anchor, tag) => {
                refuse_anchor(anchor, line)?;
                let tag = tag_name(tag.as_deref());
                let plain = style == ScalarStyle::Plain;
                let scalar = if plain && tag.is_none() && is_null(&value) {
                    Value::Null
                } else {
                    Value::Text {
                        text: value.into_owned(),
                        plain,
                    }
                };
                Some(long_form(tag, Node::new(line, scalar), line)?)
            }
            Event::SequenceStart(anchor, tag) => {
                refuse_anchor(anchor, line)?;
                stack.push(Open::Seq {
                    line,
                    tag: tag_name(tag.as_deref()),
                    items: Vec::new(),
                });
                if stack.len() > MAX_DEPTH {
                    return Err(deep(line));
                }
                None
            }
            Event::MappingStart(anchor, tag) => {
                refuse_anchor(anchor, line)?;
                stack.push(Open::Map {
                    line,
                    tag: tag_name(tag.as_deref()),
                    members: Vec::new(),
                    keys: HashSet::new(),
                    pending: None,
                });
                if stack.len() > MAX_DEPTH {
                    return Err(deep(line));
                }
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq { line, tag, items }) => {
                    Some(long_form(tag, Node::new(line, Value::Seq(items)), line)?)
                }
                _ => {
                    return Err(TemplateError::new(
                        line,
                        "not valid YAML: unbalanced sequence",
                    ))
                }
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map {
                    line, tag, members, ..
                }) => Some(long_form(tag, Node::new(line, Value::Map(members)), line)?),
                _ => {
                    return Err(TemplateError::new(
                        line,
                        "not valid YAML: unbalanced mapping",
                    ))
                }
            },
            _ => None,
        };
        let Some(node) = done else { continue };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                members,
                keys,
                pending,
                ..
            }) => {
                match pending.take() {
                    None => {
                        let text = match node.value {
                            Value::Text { text, .. } => text,
                            Value::Null => String::new(),
                            Value::Number(n) => n,
                            Value::Bool(b) => b.to_string(),
                            _ => {
                                return Err(TemplateError::new(
                                    node.line,
                                    "a mapping key that is not a scalar",
                                ))
                            }
                        };
                        if text == "<<" {
                            return Err(TemplateError::new(
                                node.line,
                                "YAML merge keys (<<) are not allowed in CloudFormation templates",
                            ));
                        }
                        if !keys.insert(text.clone()) {
                            return Err(TemplateError::new(
                            node.line,
                            format!("duplicate key {text:?} (CloudFormation refuses duplicate keys)"),
                        ));
                        }
                        *pending = Some(Key {
                            text,
                            line: node.line,
                        });
                    }
                    Some(key) => members.push((key, node)),
                }
            }
        }
    }
    root.ok_or_else(|| TemplateError::new(1, "an empty YAML document"))
}

fn deep(line: u32) -> TemplateError {
    TemplateError::new(line, format!("nested deeper than {MAX_DEPTH} levels"))
}

fn refuse_anchor(anchor: usize, line: u32) -> Result<(), TemplateError> {
    if anchor == 0 {
        Ok(())
    } else {
        Err(TemplateError::new(
            line,
            "YAML anchors are not allowed in CloudFormation templates",
        ))
    }
}

/// YAML's null: `~`, `null` in any case, or nothing.
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The short form's function name (`Ref`, `GetAtt`, `If`…), or `None` for
/// an untagged node or a core-schema tag (`!!str`).
fn tag_name(tag: Option<&Tag>) -> Option<String> {
    let tag = tag?;
    (tag.handle == "!").then(|| tag.suffix.clone())
}

/// A short-form function in long form.
fn long_form(tag: Option<String>, node: Node, line: u32) -> Result<Node, TemplateError> {
    let Some(name) = tag else { return Ok(node) };
    let (key, argument) = match name.as_str() {
        "Ref" => ("Ref".to_string(), node),
        "Condition" => ("Condition".to_string(), node),
        "GetAtt" => {
            // `!GetAtt a.b` splits at the first dot; a list is already split.
            let argument = match &node.value {
                Value::Text { text, .. } => {
                    let (resource, attribute) = text.split_once('.').ok_or_else(|| {
                        TemplateError::new(line, format!("!GetAtt {text:?} has no attribute"))
                    })?;
                    Node::new(
                        line,
                        Value::Seq(vec![
                            Node::text(line, resource),
                            Node::text(line, attribute),
                        ]),
                    )
                }
                _ => node,
            };
            ("Fn::GetAtt".to_string(), argument)
        }
        other => (format!("Fn::{other}"), node),
    };
    Ok(Node::new(
        line,
        Value::Map(vec![(Key { text: key, line }, argument)]),
    ))
}
