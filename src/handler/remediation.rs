//! The remediation the SSM runbook invokes:
//! `{"GroupId": "sg-…", "DryRun": true, "KeepEgress": "tcp:443"}`. It judges
//! the group with the rule's parameters as they are now (SPEC §8), revokes
//! only the rules open to a whole address family on their own (after adding
//! the KeepEgress rules), and refuses, changing nothing, when no such
//! surgical change closes the group.

use super::{prefix_lists_for, Failure};
use crate::aws::config::rule_parameters;
use crate::aws::remediate::{authorize_egress, describe_group_rules, revoke_egress};
use crate::aws::{Clients, Deadline};
use chrono::{DateTime, Utc};
use lambda_runtime::tracing;
use serde::Serialize;
use sg_egress_core::remediation::{
    parse_keep_egress, plan, GroupRules, KeepSpec, Plan, SecurityGroupRule,
};
use sg_egress_core::verdict::{judge, Compliance, KnownPrefixLists};
use sg_egress_core::Parameters;
use std::time::Duration;

/// Re-reads of the group after revoking, while EC2 still shows a revoked
/// rule (it is eventually consistent), before the remediation is called
/// incomplete; the pause doubles from [`REREAD_PAUSE`].
pub const REREAD_ATTEMPTS: u32 = 5;
pub const REREAD_PAUSE: Duration = Duration::from_millis(500);

/// The remediation request, as the runbook sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationRequest {
    pub group_id: String,
    pub dry_run: bool,
    pub keep: Vec<KeepSpec>,
    /// The Config rule whose parameters judge the group; the function's
    /// `SG_EGRESS_RULE_NAME` when the request names none.
    pub config_rule_name: Option<String>,
}

/// The request as the runbook writes it: `DryRun` a boolean or the text
/// of one (SSM passes parameters as text).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RequestWire {
    group_id: Option<String>,
    dry_run: Option<BoolOrText>,
    keep_egress: Option<String>,
    config_rule_name: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum BoolOrText {
    Bool(bool),
    Text(String),
}

impl RemediationRequest {
    pub fn parse(event: &[u8]) -> Result<Self, Failure> {
        let wire: RequestWire = serde_json::from_slice(event)
            .map_err(|e| Failure::InvalidEvent(format!("event: {e}")))?;
        let group_id = wire
            .group_id
            .ok_or_else(|| Failure::InvalidEvent("event: GroupId is missing".to_string()))?;
        let dry_run = match wire.dry_run {
            None => true,
            Some(BoolOrText::Bool(b)) => b,
            Some(BoolOrText::Text(t)) if t.eq_ignore_ascii_case("true") => true,
            Some(BoolOrText::Text(t)) if t.eq_ignore_ascii_case("false") => false,
            Some(BoolOrText::Text(t)) => {
                return Err(Failure::InvalidEvent(format!(
                    "event.DryRun: expected true or false, found {t:?}"
                )))
            }
        };
        let keep = parse_keep_egress(wire.keep_egress.as_deref().unwrap_or(""))
            .map_err(Failure::InvalidEvent)?;
        let config_rule_name = wire
            .config_rule_name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        Ok(RemediationRequest {
            group_id,
            dry_run,
            keep,
            config_rule_name,
        })
    }
}

/// The remediation's answer: what it did or would do, so that the revoked
/// rules can be restored.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemediationOutcome {
    pub group_id: String,
    pub dry_run: bool,
    /// `NothingToDo`, `WouldRevoke` or `Revoked`.
    pub outcome: &'static str,
    pub config_rule_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    pub message: Option<String>,
    pub revoked: Vec<SecurityGroupRule>,
    pub added: Vec<SecurityGroupRule>,
}

/// Remediates one group.
pub async fn remediate(
    event: &[u8],
    clients: &Clients,
    default_rule_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RemediationOutcome, Failure> {
    if let Some(why) = super::handed_over_reason(event) {
        return Err(Failure::InvalidEvent(format!(
            "the invocation cannot be read: {why}"
        )));
    }
    let request = RemediationRequest::parse(event)?;
    let rule_name = request
        .config_rule_name
        .as_deref()
        .or(default_rule_name)
        .ok_or_else(|| {
            Failure::InvalidRuleParameters(
                "no Config rule to take the parameters from: set SG_EGRESS_RULE_NAME on the function or pass ConfigRuleName".to_string(),
            )
        })?
        .to_string();
    let parameters =
        Parameters::from_json_text(&rule_parameters(&clients.config, &rule_name).await?)?;
    let group_id = &request.group_id;
    let (group, prefix_lists) = fetch_group(clients, &parameters, group_id).await?;
    let today = now.date_naive();
    let mut outcome = RemediationOutcome {
        group_id: group_id.clone(),
        dry_run: request.dry_run,
        outcome: "NothingToDo",
        config_rule_name: rule_name,
        finding: None,
        message: None,
        revoked: Vec::new(),
        added: Vec::new(),
    };
    let (revoke, add, finding, note) =
        match plan(&group, &parameters, &prefix_lists, today, &request.keep) {
            Plan::NothingToDo { reason } => {
                tracing::info!(group = %group_id, "nothing to remediate");
                outcome.message = Some(reason);
                return Ok(outcome);
            }
            Plan::Refuse { reason } => {
                tracing::warn!(group = %group_id, "remediation refused");
                return Err(Failure::RemediationRefused(reason));
            }
            Plan::Revoke {
                revoke,
                add,
                finding,
                note,
            } => (revoke, add, finding, note),
        };
    let ids: Vec<String> = revoke
        .iter()
        .map(|r| r.security_group_rule_id.clone())
        .collect();
    // A dry run asks EC2 too, so that it proves the role may make the change.
    authorize_egress(&clients.ec2, group_id, &add, request.dry_run).await?;
    revoke_egress(&clients.ec2, group_id, &ids, request.dry_run).await?;
    if !request.dry_run {
        confirm_closed(clients, &parameters, group_id, &ids, today).await?;
        tracing::info!(group = %group_id, revoked = ?ids, added = add.len(), "remediated");
    }
    outcome.outcome = if request.dry_run {
        "WouldRevoke"
    } else {
        "Revoked"
    };
    outcome.finding = Some(finding);
    outcome.message = note;
    outcome.revoked = revoke;
    outcome.added = add;
    Ok(outcome)
}

async fn fetch_group(
    clients: &Clients,
    parameters: &Parameters,
    group_id: &str,
) -> Result<(GroupRules, KnownPrefixLists), Failure> {
    let (group, rules) = describe_group_rules(&clients.ec2, group_id).await?;
    let prefix_lists =
        prefix_lists_for(&clients.ec2, parameters, [&group], Deadline::none()).await?;
    let group = GroupRules::new(group, rules).map_err(Failure::InvalidEvent)?;
    Ok((group, prefix_lists))
}

/// Re-reads the group until none of the revoked rules is shown any more,
/// then requires it to be closed.
async fn confirm_closed(
    clients: &Clients,
    parameters: &Parameters,
    group_id: &str,
    revoked: &[String],
    today: chrono::NaiveDate,
) -> Result<(), Failure> {
    let mut pause = REREAD_PAUSE;
    let mut attempt = 1;
    loop {
        let (after, prefix_lists) = fetch_group(clients, parameters, group_id).await?;
        let still_shown = after
            .rules
            .iter()
            .any(|(r, _)| revoked.contains(&r.security_group_rule_id));
        let verdict = judge(&after.group, parameters, &prefix_lists, today);
        if verdict.compliance != Compliance::NonCompliant {
            return Ok(());
        }
        if !still_shown || attempt == REREAD_ATTEMPTS {
            return Err(Failure::RemediationIncomplete(format!(
                "{group_id} is still NON_COMPLIANT after revoking {}{}: {}",
                revoked.join(", "),
                if still_shown {
                    format!(" (EC2 still showed a revoked rule after {REREAD_ATTEMPTS} reads)")
                } else {
                    String::new()
                },
                verdict.annotation.unwrap_or_default()
            )));
        }
        tracing::info!(group = %group_id, attempt, "EC2 still shows a revoked rule; reading again");
        tokio::time::sleep(pause).await;
        pause *= 2;
        attempt += 1;
    }
}
