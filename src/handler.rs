//! The Lambda handler: the one place that joins the core and AWS. It decides
//! what to fetch, evaluates, and sends.

use crate::aws::config::{latest_item, previously_judged, put_evaluations_in_batches, Destination};
use crate::aws::ec2::{
    apply_usage, describe_all_security_groups, group_ids_in_use, prefix_list_entries,
    referenced_prefix_lists,
};
use crate::aws::remediate::{authorize_egress, read_group_rules, revoke_egress};
use crate::aws::{assume_role, Clients, Deadline, DeadlineReached, Error};
use crate::event::{ConfigEvent, Trigger};
use crate::json::Node;
use crate::model::{ItemStatus, Resource, SecurityGroup, SECURITY_GROUP_TYPE};
use crate::remediation::{parse_keep_egress, plan, GroupRules, Plan};
use crate::verdict::{evaluate, fit_annotation, Compliance, Evaluation, KnownPrefixLists};
use crate::Parameters;
use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use lambda_runtime::tracing;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Why an invocation failed; Lambda reports `kind` as the error type.
#[derive(Debug)]
pub struct Failure {
    pub kind: &'static str,
    pub message: String,
}

impl Failure {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl From<crate::InputError> for Failure {
    fn from(e: crate::InputError) -> Self {
        Failure::new("InvalidEvent", e.to_string())
    }
}

impl From<crate::ParameterError> for Failure {
    fn from(e: crate::ParameterError) -> Self {
        Failure::new("InvalidRuleParameters", e.to_string())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let kind = if e.is::<DeadlineReached>() {
            "DeadlineApproaching"
        } else {
            "AwsCallFailed"
        };
        Failure::new(kind, e.to_string())
    }
}

impl From<Failure> for lambda_runtime::Diagnostic {
    fn from(f: Failure) -> Self {
        lambda_runtime::Diagnostic {
            error_type: f.kind.to_string(),
            error_message: f.message,
        }
    }
}

/// Handles one Config event. Any error fails the invocation, so that Config
/// retries and the previous evaluations stay; nothing is sent before the
/// event and the parameters have been read whole.
pub async fn handle(
    event: &Value,
    base: &SdkConfig,
    clients: &Clients,
    now: DateTime<Utc>,
    deadline: Deadline,
) -> Result<Value, Failure> {
    let config_event = ConfigEvent::parse(&Node::root(event, "event"))?;
    let parameters = Parameters::from_json_text(&config_event.rule_parameters)?;
    if let Trigger::NotDetective(mode) = &config_event.trigger {
        return Ok(not_detective(mode));
    }
    let result_token = config_event
        .result_token
        .as_deref()
        .ok_or_else(|| Failure::new("InvalidEvent", "event: resultToken is missing"))?;
    let destination = Destination::new(result_token);
    let member_clients;
    let clients = match &parameters.execution_role_name {
        None => clients,
        Some(role) => {
            let account = config_event.execution_role_account().ok_or_else(|| {
                Failure::new(
                    "InvalidEvent",
                    "ExecutionRoleName is set but the event's executionRoleArn names no account",
                )
            })?;
            let partition = config_event.execution_role_partition().unwrap_or("aws");
            let arn = format!("arn:{partition}:iam::{account}:role/{role}");
            tracing::info!(role = %arn, "assuming the member account's execution role");
            member_clients = Clients::new(&assume_role(base, &arn).await);
            &member_clients
        }
    };
    let fallback_time = config_event.notification_time.unwrap_or(now);
    let (kind, evaluations) = match config_event.trigger {
        Trigger::Change(resource) => (
            "change",
            vec![evaluate_one(clients, &resource, &parameters, fallback_time, now).await?],
        ),
        Trigger::Oversized(summary) => {
            let resource = match summary.not_applicable_resource() {
                Some(resource) => resource,
                None => {
                    latest_item(
                        &clients.config,
                        &summary.resource_type,
                        &summary.resource_id,
                    )
                    .await?
                }
            };
            (
                "oversized",
                vec![evaluate_one(clients, &resource, &parameters, fallback_time, now).await?],
            )
        }
        Trigger::Scheduled => {
            let rule_name = config_event
                .config_rule_name
                .as_deref()
                .ok_or_else(|| {
                    Failure::new("InvalidEvent", "event: configRuleName is missing (a scheduled sweep needs it to find stale results)")
                })?;
            let mut evaluations = sweep(clients, &parameters, fallback_time, now, deadline).await?;
            let current: HashSet<&str> = evaluations
                .iter()
                .map(|e| e.compliance_resource_id.as_str())
                .collect();
            let stale = stale_evaluations(
                &previously_judged(&clients.config, rule_name).await?,
                &current,
                fallback_time,
            );
            tracing::info!(
                groups = evaluations.len(),
                stale = stale.len(),
                "swept the account's security groups"
            );
            evaluations.extend(stale);
            ("scheduled", evaluations)
        }
        Trigger::NotDetective(mode) => return Ok(not_detective(&mode)),
    };
    let batches =
        put_evaluations_in_batches(&clients.config, &destination, &evaluations, deadline).await?;
    let non_compliant = evaluations
        .iter()
        .filter(|e| e.compliance_type == Compliance::NonCompliant)
        .count();
    for e in evaluations
        .iter()
        .filter(|e| e.compliance_type == Compliance::NonCompliant)
        .take(20)
    {
        tracing::info!(resource = %e.compliance_resource_id, annotation = e.annotation.as_deref().unwrap_or(""), "NON_COMPLIANT");
    }
    tracing::info!(
        trigger = kind,
        evaluations = evaluations.len(),
        non_compliant,
        batches,
        test_mode = destination.test_mode,
        "sent evaluations"
    );
    Ok(json!({
        "trigger": kind,
        "evaluations": evaluations.len(),
        "nonCompliant": non_compliant,
        "putEvaluationsCalls": batches,
    }))
}

/// The answer to an event in another evaluation mode: nothing is sent.
fn not_detective(mode: &str) -> Value {
    tracing::info!(evaluation_mode = %mode, "evaluationMode is not DETECTIVE: this rule reports nothing for it");
    json!({ "evaluations": 0, "skipped": format!("evaluationMode {mode}") })
}

/// The entries of the prefix lists the groups' egress names, each list read
/// once, when `ResolvePrefixLists` asks for them; otherwise none are known.
async fn prefix_lists_for<'a>(
    ec2: &aws_sdk_ec2::Client,
    parameters: &Parameters,
    groups: impl IntoIterator<Item = &'a SecurityGroup>,
) -> Result<KnownPrefixLists, Error> {
    if parameters.resolve_prefix_lists {
        prefix_list_entries(ec2, &referenced_prefix_lists(groups)).await
    } else {
        Ok(KnownPrefixLists::new())
    }
}

/// Evaluates one item, reading the prefix lists its egress names when asked to.
async fn evaluate_one(
    clients: &Clients,
    resource: &Resource,
    parameters: &Parameters,
    fallback_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Evaluation, Error> {
    let prefix_lists = match &resource.group {
        Some(group) => prefix_lists_for(&clients.ec2, parameters, [group]).await?,
        None => KnownPrefixLists::new(),
    };
    Ok(evaluate(
        resource,
        parameters,
        &prefix_lists,
        fallback_time,
        now,
    ))
}

/// Evaluates every security group of the account and region: one pass over
/// the groups, one over the network interfaces (only when unused groups are
/// ignored), and each referenced prefix list once.
pub async fn sweep(
    clients: &Clients,
    parameters: &Parameters,
    ordering_time: DateTime<Utc>,
    now: DateTime<Utc>,
    deadline: Deadline,
) -> Result<Vec<Evaluation>, Error> {
    let mut groups = describe_all_security_groups(&clients.ec2, deadline).await?;
    if parameters.ignore_unused_groups {
        apply_usage(&mut groups, &group_ids_in_use(&clients.ec2).await?);
    }
    let prefix_lists = prefix_lists_for(&clients.ec2, parameters, &groups).await?;
    Ok(groups
        .into_iter()
        .map(|group| {
            evaluate(
                &Resource::from_group(group),
                parameters,
                &prefix_lists,
                ordering_time,
                now,
            )
        })
        .collect())
}

/// NOT_APPLICABLE for the groups the rule judged before that no longer exist.
pub fn stale_evaluations(
    previous: &[(String, String)],
    current: &HashSet<&str>,
    time: DateTime<Utc>,
) -> Vec<Evaluation> {
    let mut seen = HashSet::new();
    previous
        .iter()
        .filter(|(resource_type, id)| {
            resource_type == SECURITY_GROUP_TYPE
                && !current.contains(id.as_str())
                && seen.insert(id.clone())
        })
        .map(|(resource_type, id)| {
            let gone = Resource {
                resource_type: resource_type.clone(),
                resource_id: id.clone(),
                status: ItemStatus::Gone("ResourceDeleted".to_string()),
                event_left_scope: false,
                captured_at: None,
                group: None,
            };
            let mut e = evaluate(
                &gone,
                &Parameters::default(),
                &KnownPrefixLists::new(),
                time,
                time,
            );
            e.annotation = fit_annotation(
                "The security group no longer exists (found missing by the scheduled sweep)",
            );
            e
        })
        .collect()
}

/// Remediates one group, as the SSM runbook asks:
/// `{"GroupId": "sg-…", "DryRun": true, "KeepEgress": "tcp:443"}`. Revokes
/// only the rules open to a whole address family on their own, after adding
/// the KeepEgress rules; refuses (an error, nothing changed) when no such
/// surgical change closes the group.
pub async fn remediate(
    event: &Value,
    clients: &Clients,
    parameters: &Parameters,
    now: DateTime<Utc>,
) -> Result<Value, Failure> {
    let root = Node::root(event, "event");
    root.as_object()?;
    let group_id = root
        .get("GroupId")
        .ok_or_else(|| Failure::new("InvalidEvent", "event: GroupId is missing"))?
        .as_str()?
        .to_string();
    let dry_run = root
        .get("DryRun")
        .map(|n| n.as_bool())
        .transpose()?
        .unwrap_or(true);
    let keep = root
        .get("KeepEgress")
        .map(|n| n.as_str())
        .transpose()?
        .unwrap_or("");
    let keep = parse_keep_egress(keep).map_err(|m| Failure::new("InvalidEvent", m))?;

    let read = |clients: &Clients| {
        let ec2 = clients.ec2.clone();
        let group_id = group_id.clone();
        async move {
            let (group, rules) = read_group_rules(&ec2, &group_id).await?;
            let prefix_lists = prefix_lists_for(&ec2, parameters, [&group]).await?;
            let group =
                GroupRules::new(group, rules).map_err(|m| Failure::new("InvalidEvent", m))?;
            Ok::<_, Failure>((group, prefix_lists))
        }
    };
    let (group, prefix_lists) = read(clients).await?;
    let today = now.date_naive();
    match plan(&group, parameters, &prefix_lists, today, &keep) {
        Plan::NothingToDo { reason } => {
            tracing::info!(group = %group_id, %reason, "nothing to remediate");
            Ok(
                json!({ "GroupId": group_id, "DryRun": dry_run, "Outcome": "NothingToDo", "Message": reason, "Revoked": [], "Added": [] }),
            )
        }
        Plan::Refuse { reason } => {
            tracing::warn!(group = %group_id, %reason, "remediation refused");
            Err(Failure::new("RemediationRefused", reason))
        }
        Plan::Revoke {
            revoke,
            add,
            finding,
            note,
        } => {
            if !dry_run {
                authorize_egress(&clients.ec2, &group_id, &add).await?;
                let ids: Vec<String> = revoke
                    .iter()
                    .map(|r| r.security_group_rule_id.clone())
                    .collect();
                revoke_egress(&clients.ec2, &group_id, &ids).await?;
                let (after, prefix_lists) = read(clients).await?;
                let verdict = crate::verdict::judge(&after.group, parameters, &prefix_lists, today);
                if verdict.compliance == Compliance::NonCompliant {
                    return Err(Failure::new(
                        "RemediationIncomplete",
                        format!(
                            "{group_id} is still NON_COMPLIANT after revoking {}: {}",
                            ids.join(", "),
                            verdict.annotation.unwrap_or_default()
                        ),
                    ));
                }
                tracing::info!(group = %group_id, revoked = ?ids, added = add.len(), "remediated");
            }
            Ok(json!({
                "GroupId": group_id,
                "DryRun": dry_run,
                "Outcome": if dry_run { "WouldRevoke" } else { "Revoked" },
                "Finding": finding,
                "Message": note,
                "Revoked": revoke,
                "Added": add,
            }))
        }
    }
}
