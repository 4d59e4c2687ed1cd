//! CloudFormation's intrinsic functions, conditions and parameters, over
//! values that may not be known until deployment (SPEC_TEMPLATES §3).
//!
//! A value resolves to what is known of it: a value, `AWS::NoValue`, an
//! unknown (with the expression it came from, to name it), or a choice
//! between alternatives (an `Fn::If` whose condition is unknown). Nothing
//! is guessed: a branch is taken only when its condition is known.

use super::node::{Node, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A resolved value, with the line of the node it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct V {
    pub line: u32,
    pub kind: Kind,
}

/// What is known of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    /// A scalar as text (numbers and booleans as written), and whether it
    /// was a YAML plain scalar (read as YAML 1.1 where a number is wanted).
    Scalar {
        text: String,
        plain: bool,
    },
    List(Vec<V>),
    Map(Vec<(String, V)>),
    /// `Ref: AWS::NoValue`: the property is removed.
    NoValue,
    /// Not known until deployment: the expression, as a person would name it.
    Unknown(String),
    /// One of these, depending on a condition not known until deployment.
    Choice(Vec<V>),
}

impl V {
    fn new(line: u32, kind: Kind) -> Self {
        V { line, kind }
    }

    fn unknown(line: u32, why: impl Into<String>) -> Self {
        V::new(line, Kind::Unknown(why.into()))
    }

    /// The member `key` of a resolved mapping.
    pub fn get(&self, key: &str) -> Option<&V> {
        match &self.kind {
            Kind::Map(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A whole number, as a port is read (YAML 1.1 for plain scalars).
    pub fn integer(&self) -> Option<i64> {
        match &self.kind {
            Kind::Scalar { text, plain: true } => super::node::yaml11_integer(text),
            Kind::Scalar { text, plain: false } => text.trim().parse::<i64>().ok().or_else(|| {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            }),
            _ => None,
        }
    }
}

/// A parameter's value for this evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    /// Given on the command line.
    Given(String),
    /// One of the parameter's `AllowedValues`, tried in turn (no value was
    /// given and there is no default).
    Allowed(String),
    /// The template's `Default` (the result assumes it).
    Default(String),
    /// Not known: the reason, for the message.
    Unknown(String),
}

/// Everything an evaluation of one template needs.
pub struct Resolver<'t> {
    template: &'t Node,
    parameters: BTreeMap<String, ParameterValue>,
    /// Parameters whose `Default` a resolution used.
    pub defaults_used: RefCell<BTreeSet<String>>,
    /// Parameters whose tried allowed value a resolution used.
    pub allowed_used: RefCell<BTreeSet<String>>,
    conditions: RefCell<BTreeMap<String, Option<bool>>>,
    /// Conditions found not known, and the inputs they depend on.
    unknown_conditions: RefCell<BTreeMap<String, String>>,
    /// The unknown inputs met while a condition is evaluated.
    inputs: RefCell<Vec<String>>,
}

/// Pseudo parameters, known only at deployment (but `AWS::NoValue`).
const PSEUDO: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
    "AWS::NoValue",
];

impl<'t> Resolver<'t> {
    pub fn new(template: &'t Node, parameters: BTreeMap<String, ParameterValue>) -> Self {
        Resolver {
            template,
            parameters,
            defaults_used: RefCell::new(BTreeSet::new()),
            allowed_used: RefCell::new(BTreeSet::new()),
            conditions: RefCell::new(BTreeMap::new()),
            unknown_conditions: RefCell::new(BTreeMap::new()),
            inputs: RefCell::new(Vec::new()),
        }
    }

    /// The value of condition `name`: `None` when it depends on what is not
    /// known until deployment.
    pub fn condition(&self, name: &str) -> Option<bool> {
        if let Some(known) = self.conditions.borrow().get(name) {
            if known.is_none() {
                let why = self.unknown_conditions.borrow().get(name).cloned();
                self.inputs.borrow_mut().extend(why);
            }
            return *known;
        }
        // A condition that refers to itself is unknown rather than endless.
        self.conditions.borrow_mut().insert(name.to_string(), None);
        let mark = self.inputs.borrow().len();
        let value = self
            .template
            .get("Conditions")
            .and_then(|c| c.get(name))
            .and_then(|node| self.truth(node, 0));
        self.conditions.borrow_mut().insert(name.to_string(), value);
        if value.is_none() {
            let mut inputs: Vec<String> = self.inputs.borrow()[mark..].to_vec();
            inputs.sort();
            inputs.dedup();
            let why = if inputs.is_empty() {
                format!("condition {name} (not known until deployment)")
            } else {
                format!("condition {name} ({})", inputs.join("; "))
            };
            self.unknown_conditions
                .borrow_mut()
                .insert(name.to_string(), why.clone());
            self.inputs.borrow_mut().push(why);
        }
        value
    }

    /// Gives a condition a value to try (one not known until deployment).
    pub fn force(&self, name: &str, value: bool) {
        self.conditions
            .borrow_mut()
            .insert(name.to_string(), Some(value));
    }

    /// The names of the conditions this resolver found not known.
    pub fn unknown_condition_names(&self) -> Vec<String> {
        self.unknown_conditions.borrow().keys().cloned().collect()
    }

    /// The conditions this resolver found not known, each with the inputs
    /// it depends on (`condition IsProd (Ref Env (no value, no default))`).
    pub fn unknown_conditions(&self) -> Vec<String> {
        self.unknown_conditions.borrow().values().cloned().collect()
    }

    /// The truth of a condition expression.
    fn truth(&self, node: &Node, depth: usize) -> Option<bool> {
        if depth > super::node::MAX_DEPTH {
            return None;
        }
        if let Some((name, argument)) = node.function() {
            let items = argument.elements().unwrap_or_default();
            return match name {
                "Condition" => self.condition(argument.as_str()?),
                "Fn::Not" => items
                    .first()
                    .and_then(|c| self.truth(c, depth + 1))
                    .map(|b| !b),
                "Fn::And" => fold(items.iter().map(|c| self.truth(c, depth + 1)), true),
                "Fn::Or" => fold(items.iter().map(|c| self.truth(c, depth + 1)), false),
                "Fn::Equals" => {
                    let [a, b] = items else { return None };
                    let (a, b) = (self.resolve(a), self.resolve(b));
                    for side in [&a, &b] {
                        if let Kind::Unknown(why) = &side.kind {
                            self.inputs.borrow_mut().push(why.clone());
                        }
                    }
                    match (scalar_of(&a), scalar_of(&b)) {
                        (Some(a), Some(b)) => Some(a == b),
                        _ => None,
                    }
                }
                _ => None,
            };
        }
        // A condition written as a literal true or false.
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Text { text, .. } if text.eq_ignore_ascii_case("true") => Some(true),
            Value::Text { text, .. } if text.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// Resolves a value: functions evaluated over what is known.
    pub fn resolve(&self, node: &Node) -> V {
        self.resolve_at(node, 0)
    }

    fn resolve_at(&self, node: &Node, depth: usize) -> V {
        let line = node.line;
        if depth > super::node::MAX_DEPTH {
            return V::unknown(line, "a value nested too deep");
        }
        if let Some((name, argument)) = node.function() {
            return self.function(name, argument, line, depth);
        }
        let kind = match &node.value {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Scalar {
                text: b.to_string(),
                plain: false,
            },
            Value::Number(n) => Kind::Scalar {
                text: n.clone(),
                plain: false,
            },
            Value::Text { text, plain } => {
                if text.contains("{{resolve:") {
                    Kind::Unknown(format!("{text:?} (a dynamic reference)"))
                } else {
                    Kind::Scalar {
                        text: text.clone(),
                        plain: *plain,
                    }
                }
            }
            Value::Seq(items) => Kind::List(
                items
                    .iter()
                    .map(|item| self.resolve_at(item, depth + 1))
                    .filter(|v| v.kind != Kind::NoValue)
                    .collect(),
            ),
            Value::Map(members) => Kind::Map(
                members
                    .iter()
                    .map(|(k, v)| (k.text.clone(), self.resolve_at(v, depth + 1)))
                    .filter(|(_, v)| v.kind != Kind::NoValue)
                    .collect(),
            ),
        };
        V::new(line, kind)
    }

    fn function(&self, name: &str, argument: &Node, line: u32, depth: usize) -> V {
        let items = argument.elements().unwrap_or_default();
        match name {
            "Ref" => self.reference(argument.as_str().unwrap_or_default(), line),
            "Fn::If" => {
                let [condition, when_true, when_false] = items else {
                    return V::unknown(line, "Fn::If with the wrong arguments");
                };
                let Some(condition_name) = condition.as_str() else {
                    return V::unknown(line, "Fn::If with the wrong arguments");
                };
                match self.condition(condition_name) {
                    Some(true) => self.resolve_at(when_true, depth + 1),
                    Some(false) => self.resolve_at(when_false, depth + 1),
                    None => V::new(
                        line,
                        Kind::Choice(vec![
                            self.resolve_at(when_true, depth + 1),
                            self.resolve_at(when_false, depth + 1),
                        ]),
                    ),
                }
            }
            "Fn::FindInMap" => {
                let keys: Vec<Option<String>> = items
                    .iter()
                    .map(|k| scalar_of(&self.resolve_at(k, depth + 1)))
                    .collect();
                match keys.as_slice() {
                    [Some(map), Some(top), Some(second)] => self
                        .template
                        .get("Mappings")
                        .and_then(|m| m.get(map))
                        .and_then(|m| m.get(top))
                        .and_then(|m| m.get(second))
                        .map(|v| self.resolve_at(v, depth + 1))
                        .unwrap_or_else(|| {
                            V::unknown(
                                line,
                                format!("Fn::FindInMap {map}.{top}.{second} (not in Mappings)"),
                            )
                        }),
                    _ => V::unknown(line, "Fn::FindInMap of a key not known until deployment"),
                }
            }
            "Fn::Join" => {
                let [delimiter, list] = items else {
                    return V::unknown(line, "Fn::Join with the wrong arguments");
                };
                let delimiter = scalar_of(&self.resolve_at(delimiter, depth + 1));
                let list = self.resolve_at(list, depth + 1);
                match (delimiter, &list.kind) {
                    (Some(d), Kind::List(parts)) => {
                        let texts: Option<Vec<String>> = parts.iter().map(scalar_of).collect();
                        match texts {
                            Some(texts) => scalar(line, texts.join(&d)),
                            None => V::unknown(line, unknown_part("Fn::Join", parts)),
                        }
                    }
                    _ => V::unknown(line, "Fn::Join of a value not known until deployment"),
                }
            }
            "Fn::Select" => {
                let [index, list] = items else {
                    return V::unknown(line, "Fn::Select with the wrong arguments");
                };
                let index = self.resolve_at(index, depth + 1).integer();
                let list = self.resolve_at(list, depth + 1);
                match (index, &list.kind) {
                    (Some(i), Kind::List(values)) => usize::try_from(i)
                        .ok()
                        .and_then(|i| values.get(i).cloned())
                        .unwrap_or_else(|| V::unknown(line, "Fn::Select out of range")),
                    _ => V::unknown(line, "Fn::Select of a value not known until deployment"),
                }
            }
            "Fn::Split" => {
                let [delimiter, text] = items else {
                    return V::unknown(line, "Fn::Split with the wrong arguments");
                };
                let delimiter = scalar_of(&self.resolve_at(delimiter, depth + 1));
                let text = self.resolve_at(text, depth + 1);
                match (delimiter, scalar_of(&text)) {
                    (Some(d), Some(t)) if !d.is_empty() => V::new(
                        line,
                        Kind::List(t.split(d.as_str()).map(|p| scalar(line, p)).collect()),
                    ),
                    _ => V::unknown(line, "Fn::Split of a value not known until deployment"),
                }
            }
            "Fn::Sub" => self.sub(argument, line, depth),
            "Fn::GetAtt" => {
                let path: Vec<String> = items.iter().filter_map(|i| i.scalar_text()).collect();
                V::unknown(
                    line,
                    format!("Fn::GetAtt {} (known at deployment)", path.join(".")),
                )
            }
            "Fn::ImportValue" => V::unknown(
                line,
                match scalar_of(&self.resolve_at(argument, depth + 1)) {
                    Some(export) => format!("Fn::ImportValue {export} (another stack's export)"),
                    None => "Fn::ImportValue (another stack's export)".to_string(),
                },
            ),
            other => V::unknown(line, format!("{other} (not evaluated here)")),
        }
    }

    /// `Ref`: a parameter, a pseudo parameter, or a resource.
    fn reference(&self, name: &str, line: u32) -> V {
        if name == "AWS::NoValue" {
            return V::new(line, Kind::NoValue);
        }
        if PSEUDO.contains(&name) {
            return V::unknown(line, format!("Ref {name} (known at deployment)"));
        }
        if let Some(value) = self.parameters.get(name) {
            let declared = self.template.get("Parameters").and_then(|p| p.get(name));
            let is_list = declared
                .and_then(|d| d.get("Type"))
                .and_then(Node::as_str)
                .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
            let text = match value {
                ParameterValue::Given(text) => text.clone(),
                ParameterValue::Allowed(text) => {
                    self.allowed_used.borrow_mut().insert(name.to_string());
                    text.clone()
                }
                ParameterValue::Default(text) => {
                    self.defaults_used.borrow_mut().insert(name.to_string());
                    text.clone()
                }
                ParameterValue::Unknown(why) => {
                    return V::unknown(line, format!("Ref {name} ({why})"))
                }
            };
            return if is_list {
                V::new(
                    line,
                    Kind::List(text.split(',').map(|p| scalar(line, p.trim())).collect()),
                )
            } else {
                scalar(line, text)
            };
        }
        V::unknown(
            line,
            format!("Ref {name} (a resource's id, known at deployment)"),
        )
    }

    /// `Fn::Sub`: `${Name}` replaced when every name is known.
    fn sub(&self, argument: &Node, line: u32, depth: usize) -> V {
        let (template, variables) = match argument.elements() {
            Some([text, variables]) => (text, Some(variables)),
            _ => (argument, None),
        };
        let Some(text) = template.as_str() else {
            return V::unknown(line, "Fn::Sub with the wrong arguments");
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                return V::unknown(line, "Fn::Sub with an unclosed ${");
            };
            let name = &after[..end];
            let value = match variables.and_then(|v| v.get(name)) {
                Some(node) => self.resolve_at(node, depth + 1),
                None if name.contains('.') => {
                    V::unknown(line, format!("${{{name}}} (known at deployment)"))
                }
                None => self.reference(name, line),
            };
            match scalar_of(&value) {
                Some(text) => out.push_str(&text),
                None => {
                    return V::unknown(
                        line,
                        match value.kind {
                            Kind::Unknown(why) => format!("Fn::Sub of {why}"),
                            _ => format!("Fn::Sub of ${{{name}}}"),
                        },
                    )
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        scalar(line, out)
    }
}

fn scalar(line: u32, text: impl Into<String>) -> V {
    V::new(
        line,
        Kind::Scalar {
            text: text.into(),
            plain: false,
        },
    )
}

/// The text of a known scalar.
fn scalar_of(v: &V) -> Option<String> {
    match &v.kind {
        Kind::Scalar { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// The first part of a list that is not a known scalar, named.
fn unknown_part(function: &str, parts: &[V]) -> String {
    parts
        .iter()
        .find_map(|p| match &p.kind {
            Kind::Unknown(why) => Some(format!("{function} of {why}")),
            _ => None,
        })
        .unwrap_or_else(|| format!("{function} of a value not known until deployment"))
}

/// And/Or over truths that may be unknown: known when the known ones decide.
fn fold(values: impl Iterator<Item = Option<bool>>, and: bool) -> Option<bool> {
    let mut unknown = false;
    for value in values {
        match value {
            Some(v) if v != and => return Some(v),
            Some(_) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(and)
}
