//! The shell's orchestration: the one place that joins the core and AWS. It
//! decides what to fetch, evaluates, and sends. One file per job:
//!
//! - [`rule`]: a Config rule invocation (change, oversized, scheduled);
//! - [`sweep`]: every group of an account and region, for the schedule and
//!   for `sg-egress scan`;
//! - [`remediation`]: the remediation the SSM runbook invokes;
//! - [`scan`]: `sg-egress scan` from a workstation.

pub mod hook;
pub mod remediation;
pub mod rule;
pub mod scan;
pub mod sweep;

use crate::aws::ec2::{prefix_list_entries, referenced_prefix_lists};
use crate::aws::{Deadline, Error};
use serde_json::value::RawValue;
use sg_egress_core::model::SecurityGroup;
use sg_egress_core::verdict::KnownPrefixLists;
use sg_egress_core::Parameters;

/// The key under which the binary hands over an invocation whose body is
/// not one JSON value (Lambda's runtime would otherwise refuse it before any
/// handler sees it, with a message of its own):
/// `{"sgEgressUnreadableRequest": "<why>"}`.
pub const UNREADABLE: &str = "sgEgressUnreadableRequest";

/// Why an invocation's body cannot be read as one JSON value, or `None`
/// when it can.
pub fn unreadable_body(body: &[u8]) -> Option<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some("the body is empty".to_string());
    }
    if let Err(e) = std::str::from_utf8(body) {
        return Some(format!("the body is not UTF-8 ({e})"));
    }
    serde_json::from_slice::<&RawValue>(body)
        .err()
        .map(|e| format!("the body is not valid JSON ({e})"))
}

/// The reason the binary handed over in place of an unreadable body, when
/// `event` is such a hand-over.
pub fn handed_over_reason(event: &[u8]) -> Option<String> {
    if !event.starts_with(format!("{{\"{UNREADABLE}\":").as_bytes()) {
        return None;
    }
    let value = serde_json::from_slice::<serde_json::Value>(event).ok()?;
    let why = value.get(UNREADABLE)?.as_str()?;
    Some(why.to_string())
}

/// Why an invocation failed. Lambda reports the variant's name as the error
/// type, so that a failure can be told apart in metrics and alarms without
/// reading its message.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The event is not a Config rule event, or is malformed.
    #[error("{0}")]
    InvalidEvent(String),
    /// The rule's parameters (or the deployment's settings) cannot be used.
    #[error("{0}")]
    InvalidRuleParameters(String),
    /// An AWS call still failed after the SDK's retries.
    #[error("{0}")]
    AwsCallFailed(String),
    /// Work stopped before the Lambda deadline; the message says what finished.
    #[error("{0}")]
    DeadlineApproaching(String),
    /// A sweep sent every other group's evaluation; these groups got none.
    #[error("{0}")]
    GroupsNotEvaluated(String),
    /// Remediation found no safe change; nothing was changed.
    #[error("{0}")]
    RemediationRefused(String),
    /// Remediation changed the group, and it is still open.
    #[error("{0}")]
    RemediationIncomplete(String),
}

impl Failure {
    /// The error type Lambda reports.
    pub fn error_type(&self) -> &'static str {
        match self {
            Failure::InvalidEvent(_) => "InvalidEvent",
            Failure::InvalidRuleParameters(_) => "InvalidRuleParameters",
            Failure::AwsCallFailed(_) => "AwsCallFailed",
            Failure::DeadlineApproaching(_) => "DeadlineApproaching",
            Failure::GroupsNotEvaluated(_) => "GroupsNotEvaluated",
            Failure::RemediationRefused(_) => "RemediationRefused",
            Failure::RemediationIncomplete(_) => "RemediationIncomplete",
        }
    }
}

impl From<sg_egress_core::ReadError> for Failure {
    fn from(e: sg_egress_core::ReadError) -> Self {
        Failure::InvalidEvent(e.to_string())
    }
}

impl From<sg_egress_core::ParameterError> for Failure {
    fn from(e: sg_egress_core::ParameterError) -> Self {
        Failure::InvalidRuleParameters(e.to_string())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Deadline(_) => Failure::DeadlineApproaching(e.to_string()),
            Error::Call { .. } => Failure::AwsCallFailed(e.to_string()),
        }
    }
}

impl From<Failure> for lambda_runtime::Diagnostic {
    fn from(f: Failure) -> Self {
        lambda_runtime::Diagnostic {
            error_type: f.error_type().to_string(),
            error_message: f.to_string(),
        }
    }
}

/// The entries of the prefix lists the groups' egress names, each list read
/// once, when `ResolvePrefixLists` asks for them; otherwise none are known.
/// A list that cannot be read fails: these groups cannot be judged without it.
async fn prefix_lists_for<'a>(
    ec2: &aws_sdk_ec2::Client,
    parameters: &Parameters,
    groups: impl IntoIterator<Item = &'a SecurityGroup>,
    deadline: Deadline,
) -> Result<KnownPrefixLists, Error> {
    prefix_lists_named(ec2, parameters, &referenced_prefix_lists(groups), deadline).await
}

/// The entries of the prefix lists `ids`, as [`prefix_lists_for`] reads them.
async fn prefix_lists_named(
    ec2: &aws_sdk_ec2::Client,
    parameters: &Parameters,
    ids: &std::collections::BTreeSet<String>,
    deadline: Deadline,
) -> Result<KnownPrefixLists, Error> {
    if !parameters.resolve_prefix_lists {
        return Ok(KnownPrefixLists::new());
    }
    let read = prefix_list_entries(ec2, ids, deadline).await?;
    match read.unreadable.first() {
        None => Ok(read.known),
        Some((id, why)) => Err(Error::call(
            format!("ec2:GetManagedPrefixListEntries for {id}"),
            format!("prefix list {id} cannot be read: {why}"),
        )),
    }
}
