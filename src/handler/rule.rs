//! A Config rule invocation: read the event and the parameters whole, choose
//! whose credentials to use, evaluate what the event asks for, send.

use super::sweep::{send_sweep, SweepRequest};
use super::{prefix_lists_for, Failure};
use crate::aws::config::{latest_item, put_evaluations_in_batches, ResultToken};
use crate::aws::network::{read_interfaces, read_network, InterfacesOf};
use crate::aws::{Clients, Deadline, Error, RoleClients};
use chrono::{DateTime, Utc};
use lambda_runtime::tracing;
use serde::Serialize;
use sg_egress_core::model::{Resource, Usage};
use sg_egress_core::params::ExposureMode;
use sg_egress_core::read::{read_event, ConfigEvent, Trigger};
use sg_egress_core::verdict::{evaluate, evaluate_with_network, Compliance, Evaluation};
use sg_egress_core::Parameters;
use std::collections::BTreeSet;

/// What a rule invocation needs besides its event, built once per cold start.
pub struct RuleContext<'a> {
    /// The function's own clients (its execution role).
    pub own: &'a Clients,
    /// Clients of member accounts' roles, kept across invocations.
    pub roles: &'a RoleClients,
    /// The function's own account, from the invoked function's ARN.
    pub own_account: Option<String>,
    /// The `ExecutionRoleName` the function was deployed with
    /// (`SG_EGRESS_EXECUTION_ROLE_NAME`); an event naming another is refused.
    pub deployed_role_name: Option<String>,
}

/// What an invocation did, as the function's response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub trigger: &'static str,
    pub evaluations: usize,
    pub non_compliant: usize,
    pub put_evaluations_calls: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Handles one Config event. Any error fails the invocation, so that Config
/// retries and the previous evaluations stay; nothing is sent, and no AWS
/// call made, before the event and the parameters have been read whole.
pub async fn handle(
    event: &[u8],
    context: &RuleContext<'_>,
    now: DateTime<Utc>,
    deadline: Deadline,
) -> Result<Summary, Failure> {
    if let Some(why) = super::handed_over_reason(event) {
        return Err(Failure::InvalidEvent(format!(
            "the invocation cannot be read: {why}"
        )));
    }
    let event = read_event(event)?;
    let parameters = Parameters::from_json_text(&event.rule_parameters)?;
    if let Trigger::NotDetective(mode) = &event.trigger {
        return Ok(not_detective(mode));
    }
    check_deployed_role_name(&parameters, context.deployed_role_name.as_deref())?;
    let token = event
        .result_token
        .as_deref()
        .ok_or_else(|| Failure::InvalidEvent("event: resultToken is missing".to_string()))?;
    let token = ResultToken::new(token);
    let clients = clients_for(&event, &parameters, context).await?;
    let fallback_time = event.notification_time.unwrap_or(now);
    let (trigger, resource) = match event.trigger {
        Trigger::Change(resource) => ("change", *resource),
        Trigger::Oversized(summary) => {
            let resource = match summary.not_applicable_resource() {
                Some(resource) => resource,
                None => {
                    latest_item(
                        &clients.config,
                        &summary.resource_type,
                        &summary.resource_id,
                        deadline,
                    )
                    .await?
                }
            };
            ("oversized", resource)
        }
        Trigger::Scheduled => {
            let rule_name = event.config_rule_name.as_deref().ok_or_else(|| {
                Failure::InvalidEvent("event: configRuleName is missing (a scheduled sweep needs it to find stale results)".to_string())
            })?;
            let request = SweepRequest {
                rule_name,
                owner: event.event_account(),
                parameters: &parameters,
                ordering_time: fallback_time,
                now,
                deadline,
            };
            return send_sweep(&clients, &token, &request).await;
        }
        Trigger::NotDetective(mode) => return Ok(not_detective(&mode)),
    };
    let evaluation = evaluate_item(
        &clients,
        &resource,
        &parameters,
        fallback_time,
        now,
        deadline,
    )
    .await?;
    let evaluations = [evaluation];
    let batches =
        put_evaluations_in_batches(&clients.config, &token, &evaluations, deadline).await?;
    Ok(log_sent(trigger, &evaluations, batches, &token))
}

/// The answer to an event in another evaluation mode: nothing is sent.
fn not_detective(mode: &str) -> Summary {
    tracing::info!(evaluation_mode = %mode, "evaluationMode is not DETECTIVE: this rule reports nothing for it");
    Summary {
        skipped: Some(format!("evaluationMode {mode}")),
        ..Summary::default()
    }
}

/// Refuses an `ExecutionRoleName` other than the one the function was
/// deployed with: the function may assume only the role its deployment names.
fn check_deployed_role_name(
    parameters: &Parameters,
    deployed: Option<&str>,
) -> Result<(), Failure> {
    match (deployed, parameters.execution_role_name.as_deref()) {
        (Some(deployed), Some(asked)) if deployed != asked => Err(Failure::InvalidRuleParameters(format!(
            "rule parameter ExecutionRoleName: {asked:?} is not the role this function was deployed with ({deployed:?}); redeploy the function or correct the rule's parameters"
        ))),
        _ => Ok(()),
    }
}

/// Whose credentials the calls carry (SPEC §8): the function's own for its
/// own account (the organization's management or delegated administrator
/// account, where no member role exists), the member account's execution
/// role for any other, and a failure, before any call, for another account
/// when no role is named.
async fn clients_for(
    event: &ConfigEvent,
    parameters: &Parameters,
    context: &RuleContext<'_>,
) -> Result<Clients, Failure> {
    let event_account = event.event_account();
    let own = context.own_account.as_deref();
    if event_account.is_some() && event_account == own {
        return Ok(context.own.clone());
    }
    match (&parameters.execution_role_name, event_account) {
        (None, Some(account)) if own.is_some() => Err(Failure::InvalidRuleParameters(format!(
            "the event is for account {account}, not this function's account {}: organization deployments need the rule parameter ExecutionRoleName (the role to assume in each member account)",
            own.unwrap_or_default()
        ))),
        (None, _) => Ok(context.own.clone()),
        (Some(_), None) => Err(Failure::InvalidEvent(
            "ExecutionRoleName is set but the event's executionRoleArn names no account".to_string(),
        )),
        (Some(role), Some(account)) => {
            let partition = event.execution_role_partition().unwrap_or("aws");
            let arn = format!("arn:{partition}:iam::{account}:role/{role}");
            tracing::info!(role = %arn, "using the member account's execution role");
            Ok(context.roles.for_role(&arn).await)
        }
    }
}

/// Evaluates one item. A group the item does not prove used is looked up in
/// EC2 before `IgnoreUnusedGroups` may call it unused (SPEC §7); the prefix
/// lists its egress names are read when `ResolvePrefixLists` asks.
async fn evaluate_item(
    clients: &Clients,
    resource: &Resource,
    parameters: &Parameters,
    fallback_time: DateTime<Utc>,
    now: DateTime<Utc>,
    deadline: Deadline,
) -> Result<Evaluation, Error> {
    let mut resource = resource.clone();
    // The group's interfaces, when read to learn whether it is used: the
    // same listing serves its exposure.
    let mut interfaces = None;
    let prefix_lists = match &mut resource.group {
        Some(group) => {
            if parameters.ignore_unused_groups && group.usage != Usage::InUse {
                let ids = [group.group_id.clone()];
                let listed =
                    read_interfaces(&clients.ec2, Some(("group-id", &ids)), deadline).await?;
                group.usage = if listed.is_empty() {
                    Usage::Unused
                } else {
                    Usage::InUse
                };
                interfaces = Some(listed);
            }
            prefix_lists_for(&clients.ec2, parameters, [&*group], deadline).await?
        }
        None => Default::default(),
    };
    let evaluation = evaluate(&resource, parameters, &prefix_lists, fallback_time, now);
    // An open group's exposure: its VPC's network, read only now (SPEC_EXPOSURE §2).
    let open = evaluation.compliance_type == Compliance::NonCompliant;
    match (&resource.group, open, parameters.exposure_mode) {
        (Some(group), true, mode) if mode != ExposureMode::Off => {
            let vpcs: BTreeSet<String> = group.vpc_id.iter().cloned().collect();
            let groups = [group.group_id.clone()];
            let of = match interfaces {
                Some(listed) => InterfacesOf::KnownFor(&groups, listed),
                None => InterfacesOf::Groups(&groups),
            };
            let network = read_network(&clients.ec2, &vpcs, of, deadline).await?;
            Ok(evaluate_with_network(
                &resource,
                parameters,
                &prefix_lists,
                Some(&network),
                fallback_time,
                now,
            ))
        }
        _ => Ok(evaluation),
    }
}

/// Logs what was sent: the ids of up to 20 NON_COMPLIANT groups (never an
/// annotation, which may quote a tag), and the counts.
pub(super) fn log_sent(
    trigger: &'static str,
    evaluations: &[Evaluation],
    batches: usize,
    token: &ResultToken,
) -> Summary {
    let non_compliant: Vec<&Evaluation> = evaluations
        .iter()
        .filter(|e| e.compliance_type == Compliance::NonCompliant)
        .collect();
    for e in non_compliant.iter().take(20) {
        tracing::info!(resource = %e.compliance_resource_id, "NON_COMPLIANT");
    }
    for e in evaluations {
        tracing::debug!(resource = %e.compliance_resource_id, compliance = %e.compliance_type, "sent");
    }
    tracing::info!(
        trigger,
        evaluations = evaluations.len(),
        non_compliant = non_compliant.len(),
        batches,
        test_mode = token.test_mode,
        "sent evaluations"
    );
    Summary {
        trigger,
        evaluations: evaluations.len(),
        non_compliant: non_compliant.len(),
        put_evaluations_calls: batches,
        skipped: None,
    }
}
