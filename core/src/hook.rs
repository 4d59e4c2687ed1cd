//! CloudFormation Lambda Hook requests and answers: the same decision as
//! `check` (SPEC_TEMPLATES), before CloudFormation creates or updates a
//! group. The shapes are AWS's ("Create Lambda functions to evaluate
//! resources for Lambda Hooks"; tests/fixtures/hook/NOTES.md):
//!
//! - a **resource operation** on `AWS::EC2::SecurityGroup` or
//!   `AWS::EC2::SecurityGroupEgress` carries the proposed properties
//!   (`requestData.targetModel.resourceProperties`), judged as a template of
//!   that one resource: no `SecurityGroupEgress` is the implicit default, a
//!   standalone rule is judged on its own;
//! - a **stack operation** carries a presigned URL (`requestData.payload`)
//!   to `{"template": …, "previousTemplate": …}`; the shell fetches it and
//!   the template is judged whole, so standalone rules join their groups;
//! - DELETE passes, other resource types pass, and a malformed request is
//!   answered `FAILED` with `InternalFailure` and what is wrong, never a
//!   crash.
//!
//! A NON_COMPLIANT group is `FAILED` with `NonCompliant` and the rule's
//! annotation as the message; compliant and exempt groups are `SUCCESS`
//! (the message says exempt and why). At the stack level a template's
//! parameter values are not known (the payload does not carry them), so an
//! UNDETERMINED group passes there, said in the message: the resource
//! operation that follows judges it with its values resolved. At the
//! resource level, where AWS resolves every value, a group that still
//! cannot be shown closed is refused.

use crate::templates::cloudformation::{check_template, EGRESS_TYPE, GROUP_TYPE};
use crate::templates::sarif::{rule_of, FIX};
use crate::templates::{read_document, CheckOptions, CheckResult, Document, Kind, Outcome};
use serde_json::{json, Value};

/// CloudFormation truncates a message at 4,096 characters (1,024 for Cloud
/// Control API operations); answers keep under the smaller, so nothing
/// that matters is cut.
pub const MAX_MESSAGE: usize = 1024;

/// A stack's message may use CloudFormation's full length.
const MAX_STACK_MESSAGE: usize = 4096;

/// At most this many annotations per answer, each naming one group.
const MAX_ANNOTATIONS: usize = 50;

/// Where the recommended action is documented (ORIGIN.md).
const REMEDIATION_LINK: &str =
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/authorizing-access-to-an-instance.html";

/// What a request asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Nothing to judge: a deletion, another resource type, a change set.
    Pass { token: String, reason: String },
    /// A resource operation on a group or a standalone egress rule.
    Resource {
        token: String,
        logical_id: String,
        type_name: String,
        properties: Value,
    },
    /// A stack operation: the template is behind `payload_url`.
    Stack {
        token: String,
        stack_name: String,
        payload_url: String,
    },
}

/// The hook's answer, in the documented response shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub token: String,
    pub status: Status,
    pub message: String,
    pub annotations: Vec<HookAnnotation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    /// Evaluated and refused (`NonCompliant`).
    NonCompliant,
    /// Not evaluated: the request (or the payload) could not be read.
    InternalFailure,
}

/// One annotation of an answer, as the hooks service reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookAnnotation {
    pub annotation_name: String,
    /// `PASSED`, `FAILED` or `SKIPPED`.
    pub status: &'static str,
    pub status_message: String,
    pub severity_level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_link: Option<&'static str>,
}

/// The response CloudFormation reads: `errorCode` only when failed,
/// `annotations` only when there are some.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    hook_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    message: &'a str,
    client_request_token: &'a str,
    #[serde(skip_serializing_if = "<[HookAnnotation]>::is_empty")]
    annotations: &'a [HookAnnotation],
}

impl Answer {
    /// The response CloudFormation reads.
    pub fn to_json(&self) -> Value {
        let (hook_status, error_code) = match self.status {
            Status::Success => ("SUCCESS", None),
            Status::NonCompliant => ("FAILED", Some("NonCompliant")),
            Status::InternalFailure => ("FAILED", Some("InternalFailure")),
        };
        serde_json::to_value(Response {
            hook_status,
            error_code,
            message: &self.message,
            client_request_token: &self.token,
            annotations: &self.annotations,
        })
        .unwrap_or_else(|e| json!({"hookStatus": "FAILED", "errorCode": "InternalFailure", "message": e.to_string(), "clientRequestToken": self.token}))
    }
}

/// An answer for a request that could not be evaluated.
pub fn internal_failure(token: &str, message: impl Into<String>) -> Answer {
    Answer {
        token: token.to_string(),
        status: Status::InternalFailure,
        message: fit(&message.into(), MAX_MESSAGE),
        annotations: Vec::new(),
    }
}

/// The request's token, when it has one (AWS's resource example has none;
/// the answer then echoes an empty token).
pub fn token_of(bytes: &[u8]) -> String {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.get("clientRequestToken")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// Reads a request: what it asks, or (its token and) why it cannot be read.
pub fn parse_request(bytes: &[u8]) -> Result<Request, (String, String)> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| (String::new(), format!("the hook request is not JSON: {e}")))?;
    let token = value
        .get("clientRequestToken")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let fail = |message: String| (token.clone(), message);
    let Some(request) = value.as_object() else {
        return Err(fail("the hook request is not a JSON object".to_string()));
    };
    let data = request
        .get("requestData")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            fail(
                "requestData is missing or not an object: not a CloudFormation Lambda Hook request"
                    .to_string(),
            )
        })?;
    let target = data
        .get("targetName")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("requestData.targetName is missing or not a string".to_string()))?;
    let point = request
        .get("actionInvocationPoint")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("actionInvocationPoint is missing or not a string".to_string()))?;
    let pass = |reason: String| {
        Ok(Request::Pass {
            token: token.clone(),
            reason,
        })
    };
    match point {
        "DELETE_PRE_PROVISION" => return pass("a deletion opens nothing".to_string()),
        "CREATE_PRE_PROVISION" | "UPDATE_PRE_PROVISION" => {}
        other => return Err(fail(format!("actionInvocationPoint {other:?} is not one this hook knows (CREATE_PRE_PROVISION, UPDATE_PRE_PROVISION, DELETE_PRE_PROVISION)"))),
    }
    match target {
        "STACK" => {
            let payload_url = data
                .get("payload")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .ok_or_else(|| fail("requestData.payload is missing or not a URL: a stack operation's template cannot be read".to_string()))?;
            Ok(Request::Stack {
                token: token.clone(),
                stack_name: data
                    .get("targetLogicalId")
                    .and_then(Value::as_str)
                    .unwrap_or("the stack")
                    .to_string(),
                payload_url: payload_url.to_string(),
            })
        }
        "CHANGE_SET" => pass(
            "change-set operations are not judged; the stack and resource operations are"
                .to_string(),
        ),
        GROUP_TYPE | EGRESS_TYPE => {
            let model = data.get("targetModel");
            let properties = match model.and_then(|m| m.get("resourceProperties")) {
                None | Some(Value::Null) => json!({}),
                Some(Value::Object(p)) => Value::Object(p.clone()),
                Some(other) => {
                    return Err(fail(format!(
                        "requestData.targetModel.resourceProperties is {}, not an object",
                        crate::params::type_name(other)
                    )))
                }
            };
            Ok(Request::Resource {
                token: token.clone(),
                logical_id: data
                    .get("targetLogicalId")
                    .and_then(Value::as_str)
                    .unwrap_or(target)
                    .to_string(),
                type_name: target.to_string(),
                properties,
            })
        }
        other => pass(format!("{other} is not a security group or egress rule")),
    }
}

/// Judges a resource operation's proposed properties.
pub fn judge_resource(
    token: &str,
    logical_id: &str,
    type_name: &str,
    properties: &Value,
    options: &CheckOptions,
) -> Answer {
    let template =
        json!({ "Resources": { logical_id: { "Type": type_name, "Properties": properties } } });
    let root = match crate::templates::json::read_json(&template.to_string()) {
        Ok(root) => root,
        Err(e) => {
            return internal_failure(
                token,
                format!("{logical_id}: the properties cannot be read: {}", e.message),
            )
        }
    };
    let results = match check_template(&root, options) {
        Ok(checked) => checked.results,
        Err(e) => return internal_failure(token, format!("{logical_id}: {}", e.message)),
    };
    let refused: Vec<&CheckResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::NonCompliant | Outcome::Undetermined))
        .collect();
    let annotations = annotations(&results);
    if let Some(first) = refused.first() {
        let words = first
            .annotation
            .as_deref()
            .unwrap_or("open to the internet");
        let why = if first.outcome == Outcome::Undetermined {
            format!("{logical_id} cannot be shown closed before it is created: {words}")
        } else {
            format!("{logical_id}: {words}")
        };
        return Answer {
            token: token.to_string(),
            status: Status::NonCompliant,
            message: fit(&format!("{why}. Restrict its egress to what it needs, or exempt it with the exemption tag, saying why."), MAX_MESSAGE),
            annotations,
        };
    }
    let message = match results.first() {
        Some(r) if r.exemption.is_some() => format!(
            "{logical_id}: {}",
            r.exemption.as_deref().unwrap_or("exempt")
        ),
        _ => format!("{logical_id}: egress not open to the internet"),
    };
    Answer {
        token: token.to_string(),
        status: Status::Success,
        message: fit(&message, MAX_MESSAGE),
        annotations,
    }
}

/// Judges a stack operation's payload (`{"template": …, "previousTemplate": …}`).
pub fn judge_payload(
    token: &str,
    stack_name: &str,
    payload: &[u8],
    options: &CheckOptions,
) -> Answer {
    let value: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => {
            return internal_failure(
                token,
                format!("{stack_name}: the stack payload is not JSON: {e}"),
            )
        }
    };
    let template = match value.get("template") {
        None | Some(Value::Null) => "",
        Some(Value::String(t)) => t.as_str(),
        Some(other) => {
            return internal_failure(
                token,
                format!(
                    "{stack_name}: the stack payload's template is {}, not a string",
                    crate::params::type_name(other)
                ),
            )
        }
    };
    if template.trim().is_empty() {
        return Answer {
            token: token.to_string(),
            status: Status::Success,
            message: format!("{stack_name}: no template to judge (a stack deletion)"),
            annotations: Vec::new(),
        };
    }
    let root = match read_document(template.as_bytes()) {
        Ok(Document::Template(root)) => root,
        Ok(_) => {
            return internal_failure(
                token,
                format!(
                    "{stack_name}: the stack payload's template is not a CloudFormation template"
                ),
            )
        }
        Err(e) => {
            return internal_failure(
                token,
                format!("{stack_name}: the template cannot be read: {e}"),
            )
        }
    };
    // The payload holds the template, not the deployment's parameter
    // values: a parameter's default is not assumed here (a stack deployed
    // with other values must not be refused for it); the resource-level
    // invocation judges the resolved properties.
    let options = &CheckOptions {
        assume_defaults: false,
        ..options.clone()
    };
    let checked = match check_template(&root, options) {
        Ok(checked) => checked,
        Err(e) => return internal_failure(token, format!("{stack_name}: {e}")),
    };
    let results = checked.results;
    let open: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.outcome == Outcome::NonCompliant)
        .collect();
    let undetermined: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Undetermined)
        .collect();
    let annotations = annotations(&results);
    let list = |results: &[&CheckResult]| -> String {
        results
            .iter()
            .map(|r| {
                format!(
                    "{} (line {}): {}",
                    r.resource,
                    r.line,
                    r.annotation.as_deref().unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !open.is_empty() {
        let count = if open.len() == 1 {
            "1 security group".to_string()
        } else {
            format!("{} security groups", open.len())
        };
        return Answer {
            token: token.to_string(),
            status: Status::NonCompliant,
            message: fit(
                &format!(
                    "{stack_name}: {count} open to the internet: {}",
                    list(&open)
                ),
                MAX_STACK_MESSAGE,
            ),
            annotations,
        };
    }
    let mut message = format!("{stack_name}: no security group open to the internet");
    if !undetermined.is_empty() {
        message.push_str(&format!(
            "; not decided before the parameters are known, and judged again as each resource is created: {}",
            list(&undetermined)
        ));
    }
    if results.iter().any(|r| r.outcome == Outcome::NotEvaluated) {
        message.push_str(
            "; the template has a Transform: its groups are judged as each resource is created",
        );
    }
    if !checked.nested_templates.is_empty() {
        message.push_str("; nested stacks are judged as their own stacks");
    }
    Answer {
        token: token.to_string(),
        status: Status::Success,
        message: fit(&message, MAX_STACK_MESSAGE),
        annotations,
    }
}

/// One annotation per group judged (at most [`MAX_ANNOTATIONS`]).
fn annotations(results: &[CheckResult]) -> Vec<HookAnnotation> {
    results
        .iter()
        .take(MAX_ANNOTATIONS)
        .map(|r| {
            let (status, severity) = match r.outcome {
                Outcome::NonCompliant => ("FAILED", "HIGH"),
                Outcome::Undetermined => ("FAILED", "MEDIUM"),
                Outcome::NotEvaluated => ("SKIPPED", "INFORMATIONAL"),
                Outcome::Compliant => ("PASSED", "INFORMATIONAL"),
            };
            let rule = rule_of(r.kind).map(|(_, rule)| rule);
            let name = match (r.kind, rule) {
                (Kind::Closed, _) | (_, None) => format!("sg-egress {}", r.resource),
                (_, Some(rule)) => format!("sg-egress {} {} {}", rule.id, rule.name, r.resource),
            };
            let message = r
                .exemption
                .clone()
                .or_else(|| r.annotation.clone())
                .unwrap_or_else(|| "egress not open to the internet".to_string());
            let refused = matches!(r.outcome, Outcome::NonCompliant | Outcome::Undetermined);
            HookAnnotation {
                annotation_name: fit(&name, 1024),
                status,
                status_message: fit(&format!("{}: {message}", r.resource), 16384),
                severity_level: severity,
                remediation_message: refused.then_some(FIX),
                remediation_link: refused.then_some(REMEDIATION_LINK),
            }
        })
        .collect()
}

/// Text cut to `max` characters, ending with `…` when cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The prefix lists outside any template (`pl-…`) that a resource
/// operation's proposed properties name: the group's `SecurityGroupEgress`
/// items, or a standalone rule's own `DestinationPrefixListId`.
pub fn named_prefix_lists(properties: &Value) -> std::collections::BTreeSet<String> {
    let mut ids = std::collections::BTreeSet::new();
    let items = properties
        .get("SecurityGroupEgress")
        .and_then(Value::as_array)
        .map(|items| items.iter())
        .into_iter()
        .flatten();
    for rule in std::iter::once(properties).chain(items) {
        if let Some(id) = rule.get("DestinationPrefixListId").and_then(Value::as_str) {
            if id.starts_with("pl-") {
                ids.insert(id.to_string());
            }
        }
    }
    ids
}
