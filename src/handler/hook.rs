//! The function in hook mode (`SG_EGRESS_MODE=hook`): answers CloudFormation
//! Lambda Hook invocations with the decision of `check` (the core's
//! [`hook`](sg_egress_core::hook) module). This file fetches a stack
//! operation's payload and hands everything else to the core.
//!
//! The answer is always a well-formed response: a request that cannot be
//! read, a payload that cannot be fetched, or rule parameters that cannot
//! be used are `FAILED` with `InternalFailure` and the reason (the hook's
//! `FailureMode` decides whether that stops the operation).

use super::prefix_lists_named;
use crate::aws::ec2::describe_group;
use crate::aws::payload::PayloadFetcher;
use crate::aws::Deadline;
use lambda_runtime::tracing;
use sg_egress_core::hook::{
    internal_failure, judge_payload, judge_resource, named_prefix_lists, parse_request, Answer,
    Request, Status,
};
use sg_egress_core::templates::cloudformation::EGRESS_TYPE;
use sg_egress_core::templates::CheckOptions;
use sg_egress_core::Parameters;
use std::time::Duration;

/// What every invocation shares: the rule's parameters (read once, at
/// start, from `SG_EGRESS_PARAMETERS`), the payload fetcher, and EC2 (for
/// the entries of the prefix lists a group names, when the parameters
/// resolve them).
pub struct HookContext {
    pub parameters: Result<Parameters, String>,
    pub fetcher: Result<PayloadFetcher, String>,
    pub ec2: aws_sdk_ec2::Client,
}

impl HookContext {
    /// Reads the rule's parameters (InputParameters JSON; unset means the
    /// defaults). A bad value is kept as its error and named in every answer.
    pub fn new(parameters: Option<&str>, ec2: aws_sdk_ec2::Client) -> Self {
        let parameters = match parameters {
            None => Ok(Parameters::default()),
            Some(text) => Parameters::from_json_text(text).map_err(|e| {
                format!("SG_EGRESS_PARAMETERS: {e}: the hook judges nothing until it is fixed")
            }),
        };
        HookContext {
            parameters,
            fetcher: PayloadFetcher::new(),
            ec2,
        }
    }
}

/// Answers one hook invocation.
pub async fn handle_hook(
    event: &[u8],
    context: &HookContext,
    today: chrono::NaiveDate,
    deadline: Deadline,
) -> serde_json::Value {
    let answer = answer(event, context, today, deadline).await;
    // The answer's message stays out of the logs: it names the groups'
    // findings and exemptions, and an exemption quotes its tag's value.
    // CloudFormation shows it in the stack's events. A failure's reason is
    // logged: it says what in the request could not be read.
    let token = &answer.token;
    let refused = answer
        .annotations
        .iter()
        .filter(|a| a.status == "FAILED")
        .count();
    match answer.status {
        Status::Success => tracing::info!(token = %token, "hook: SUCCESS"),
        Status::NonCompliant => {
            tracing::warn!(token = %token, groups = refused, "hook: FAILED NonCompliant")
        }
        Status::InternalFailure => {
            tracing::error!(token = %token, reason = %answer.message, "hook: FAILED InternalFailure")
        }
    }
    answer.to_json()
}

async fn answer(
    event: &[u8],
    context: &HookContext,
    today: chrono::NaiveDate,
    deadline: Deadline,
) -> Answer {
    if let Some(why) = super::handed_over_reason(event) {
        return internal_failure("", format!("the hook request cannot be read: {why}"));
    }
    let request = match parse_request(event) {
        Ok(request) => request,
        Err((token, message)) => return internal_failure(&token, message),
    };
    let token = match &request {
        Request::Pass { token, .. }
        | Request::Resource { token, .. }
        | Request::Stack { token, .. } => token.clone(),
    };
    if let Request::Pass { reason, .. } = &request {
        return Answer {
            token,
            status: Status::Success,
            message: format!("nothing to judge: {reason}"),
            annotations: Vec::new(),
        };
    }
    let parameters = match &context.parameters {
        Ok(parameters) => parameters.clone(),
        Err(message) => return internal_failure(&token, message.clone()),
    };
    let mut options = CheckOptions {
        parameters,
        template_parameters: Default::default(),
        today,
        assume_defaults: true,
        prefix_lists: Default::default(),
        known_groups: Default::default(),
    };
    match request {
        Request::Pass { .. } => unreachable!("answered above"),
        Request::Resource {
            token,
            logical_id,
            type_name,
            properties,
        } => {
            // As the rule reads them: a list holding 0.0.0.0/0 is the internet.
            let named = named_prefix_lists(&properties);
            match prefix_lists_named(&context.ec2, &options.parameters, &named, deadline).await {
                Ok(lists) => options.prefix_lists = lists,
                Err(e) => return internal_failure(&token, format!("{logical_id}: {e}")),
            }
            // A standalone rule joins a group that exists already: its VPC
            // and tags decide exemptions, as they will for the rule. A group
            // that cannot be read exempts nothing: the rule is judged alone.
            let group_id = properties.get("GroupId").and_then(|g| g.as_str());
            if let (EGRESS_TYPE, Some(id)) = (type_name.as_str(), group_id) {
                match describe_group(&context.ec2, id).await {
                    Ok(group) => {
                        options.known_groups.insert(id.to_string(), group);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "{logical_id}: judged without its group's tags and VPC")
                    }
                }
            }
            judge_resource(&token, &logical_id, &type_name, &properties, &options)
        }
        Request::Stack {
            token,
            stack_name,
            payload_url,
        } => {
            let fetcher = match &context.fetcher {
                Ok(fetcher) => fetcher,
                Err(message) => return internal_failure(&token, message.clone()),
            };
            let limit = deadline.remaining().unwrap_or(Duration::from_secs(20));
            match fetcher.fetch(&payload_url, limit).await {
                Ok(payload) => judge_payload(&token, &stack_name, &payload, &options),
                Err(message) => internal_failure(&token, format!("{stack_name}: {message}")),
            }
        }
    }
}
