//! A sweep: every security group the account owns in one region, evaluated
//! once each (SPEC §8). For a scheduled invocation it also marks the groups
//! judged before that no longer exist NOT_APPLICABLE.

use super::rule::{log_sent, Summary};
use super::Failure;
use crate::aws::config::{previously_judged, put_evaluations_in_batches, ResultToken};
use crate::aws::ec2::{describe_all_security_groups, prefix_list_entries, referenced_prefix_lists};
use crate::aws::network::{read_interfaces, read_network, InterfacesOf};
use crate::aws::{Clients, Deadline, Error};
use chrono::{DateTime, Utc};
use lambda_runtime::tracing;
use sg_egress_core::cidr::Family;
use sg_egress_core::exposure::{exposure, Exposure};
use sg_egress_core::model::GroupsInUse;
use sg_egress_core::model::{ItemStatus, Resource, SecurityGroup, SECURITY_GROUP_TYPE};
use sg_egress_core::params::ExposureMode;
use sg_egress_core::verdict::{
    evaluate, evaluate_with_network, fit_annotation, judge, Compliance, Evaluation,
    KnownPrefixLists,
};
use sg_egress_core::Parameters;
use std::collections::{BTreeSet, HashMap, HashSet};

/// What a sweep produced.
#[derive(Debug, Default)]
pub struct Swept {
    /// One evaluation per group the account owns that could be read.
    pub evaluations: Vec<Evaluation>,
    /// Groups that got no evaluation, and why (their earlier results stay).
    pub left_out: Vec<(String, String)>,
    /// Every group id EC2 listed: evaluated, left out, or another account's.
    pub seen: HashSet<String>,
    /// The groups EC2 listed that another account owns (shared in through
    /// RAM), with their owner: never evaluated here.
    pub shared_in: HashMap<String, String>,
    /// The most exposed class of each open group (SPEC_EXPOSURE), when read.
    pub exposures: HashMap<String, Exposure>,
}

/// Evaluates every group `owner` owns (every group when the owner is not
/// known): one pass over the groups, one over the network interfaces (only
/// when unused groups are ignored), and each referenced prefix list once. A
/// group that cannot be read, or whose prefix list cannot be read, is left
/// out and named; the others are evaluated.
pub async fn sweep(
    clients: &Clients,
    parameters: &Parameters,
    owner: Option<&str>,
    ordering_time: DateTime<Utc>,
    now: DateTime<Utc>,
    deadline: Deadline,
) -> Result<Swept, Error> {
    let mut swept = Swept::default();
    let mut groups: Vec<SecurityGroup> = Vec::new();
    for described in describe_all_security_groups(&clients.ec2, deadline).await? {
        swept.seen.insert(described.group_id.clone());
        if let (Some(owner), Some(group_owner)) = (owner, described.owner_id.as_deref()) {
            if owner != group_owner {
                swept
                    .shared_in
                    .insert(described.group_id.clone(), group_owner.to_string());
                continue;
            }
        }
        match described.group {
            Ok(group) => groups.push(group),
            Err(e) => swept.left_out.push((described.group_id, e.to_string())),
        }
    }
    // One pass over the region's interfaces serves both unused groups and
    // exposure.
    let mut interfaces = None;
    if parameters.ignore_unused_groups {
        let all = read_interfaces(&clients.ec2, None, deadline).await?;
        let mut in_use = GroupsInUse::new();
        in_use.extend(all.iter().flat_map(|i| i.groups.iter().map(String::as_str)));
        groups.iter_mut().for_each(|g| in_use.apply(g));
        interfaces = Some(all);
    }
    let prefix_lists = if parameters.resolve_prefix_lists {
        let read =
            prefix_list_entries(&clients.ec2, &referenced_prefix_lists(&groups), deadline).await?;
        groups.retain(|group| {
            let unreadable = read
                .unreadable
                .iter()
                .find(|(id, _)| group.egress.iter().any(|p| p.prefix_list_ids.contains(id)));
            if let Some((id, why)) = unreadable {
                swept.left_out.push((
                    group.group_id.clone(),
                    format!("prefix list {id} cannot be read: {why}"),
                ));
            }
            unreadable.is_none()
        });
        read.known
    } else {
        KnownPrefixLists::new()
    };
    swept.evaluations = groups
        .iter()
        .map(|group| {
            evaluate(
                &Resource::from_group(group.clone()),
                parameters,
                &prefix_lists,
                ordering_time,
                now,
            )
        })
        .collect();
    if parameters.exposure_mode != ExposureMode::Off {
        // The network of every VPC with an open group, each read once.
        let open: Vec<usize> = (0..groups.len())
            .filter(|&i| swept.evaluations[i].compliance_type == Compliance::NonCompliant)
            .collect();
        let vpcs: BTreeSet<String> = open
            .iter()
            .filter_map(|&i| groups[i].vpc_id.clone())
            .collect();
        if !vpcs.is_empty() {
            let of = match interfaces {
                Some(all) => InterfacesOf::Known(all),
                None => InterfacesOf::Vpcs,
            };
            let network = read_network(&clients.ec2, &vpcs, of, deadline).await?;
            for i in open {
                let group = &groups[i];
                swept.evaluations[i] = evaluate_with_network(
                    &Resource::from_group(group.clone()),
                    parameters,
                    &prefix_lists,
                    Some(&network),
                    ordering_time,
                    now,
                );
                let families: BTreeSet<Family> =
                    judge(group, parameters, &prefix_lists, now.date_naive())
                        .findings
                        .iter()
                        .map(|f| f.family)
                        .collect();
                if let Some(most) = families
                    .into_iter()
                    .map(|f| exposure(&group.group_id, group.vpc_id.as_deref(), f, &network))
                    .min_by_key(Exposure::rank)
                {
                    swept.exposures.insert(group.group_id.clone(), most);
                }
            }
        }
    }
    Ok(swept)
}

/// What a scheduled invocation sweeps, and for which rule.
pub struct SweepRequest<'a> {
    pub rule_name: &'a str,
    /// The account whose groups are evaluated (the event's account).
    pub owner: Option<&'a str>,
    pub parameters: &'a Parameters,
    pub ordering_time: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub deadline: Deadline,
}

/// A scheduled invocation, in the order SPEC §8 gives: the rule's earlier
/// results first (so that a group created during the sweep is never taken
/// for a deleted one), then the groups, then every group's evaluation sent
/// (one empty call when there are none), then, best effort, the deleted
/// groups marked NOT_APPLICABLE. The invocation fails afterwards when a group
/// was left out or the clean-up failed, so that the failure is visible.
pub async fn send_sweep(
    clients: &Clients,
    token: &ResultToken,
    request: &SweepRequest<'_>,
) -> Result<Summary, Failure> {
    let deadline = request.deadline;
    let previous = previously_judged(&clients.config, request.rule_name, deadline).await;
    let swept = sweep(
        clients,
        request.parameters,
        request.owner,
        request.ordering_time,
        request.now,
        deadline,
    )
    .await?;
    let batches =
        put_evaluations_in_batches(&clients.config, token, &swept.evaluations, deadline).await?;
    let mut summary = log_sent("scheduled", &swept.evaluations, batches, token);

    // A failed clean-up keeps its kind (a deadline is a deadline), with context.
    let cleanup: Result<(), (String, Error)> = match previous {
        Ok(previous) => {
            let stale = stale_evaluations(
                &previous,
                &swept.seen,
                &swept.shared_in,
                request.ordering_time,
            );
            tracing::info!(
                stale = stale.len(),
                "groups judged before that no longer exist or are another account's"
            );
            if stale.is_empty() {
                Ok(())
            } else {
                put_evaluations_in_batches(&clients.config, token, &stale, deadline)
                    .await
                    .map(|calls| {
                        summary.evaluations += stale.len();
                        summary.put_evaluations_calls += calls;
                    })
                    .map_err(|e| {
                        (
                            format!(
                                "marking {} deleted or shared-in groups NOT_APPLICABLE failed",
                                stale.len()
                            ),
                            e,
                        )
                    })
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "clean-up of deleted groups skipped");
            Err((
                "clean-up of deleted groups skipped, reading the rule's earlier results failed"
                    .to_string(),
                e,
            ))
        }
    };
    if !swept.left_out.is_empty() {
        let mut message = format!(
            "{} groups got no evaluation in this sweep (their earlier results stay; every other group was sent): {}",
            swept.left_out.len(),
            list_left_out(&swept.left_out)
        );
        if let Err((context, e)) = cleanup {
            message.push_str(&format!("; also {context}: {e}"));
        }
        return Err(Failure::GroupsNotEvaluated(message));
    }
    cleanup.map_err(|(context, e)| match Failure::from(e) {
        Failure::DeadlineApproaching(m) => Failure::DeadlineApproaching(format!("{context}: {m}")),
        other => Failure::AwsCallFailed(format!("{context}: {other}")),
    })?;
    Ok(summary)
}

/// The groups a sweep left out, each with why: `sg-1 (why); sg-2 (why)`.
pub fn list_left_out(left_out: &[(String, String)]) -> String {
    left_out
        .iter()
        .map(|(id, why)| format!("{id} ({why})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// NOT_APPLICABLE for the groups the rule judged before that the sweep did
/// not see, and for those another account owns (judged here by a version
/// that evaluated every group EC2 listed: such a result would never change
/// again; the owner's Config evaluates the group).
pub fn stale_evaluations(
    previous: &[(String, String)],
    seen: &HashSet<String>,
    shared_in: &HashMap<String, String>,
    time: DateTime<Utc>,
) -> Vec<Evaluation> {
    let mut marked = HashSet::new();
    previous
        .iter()
        .filter(|(resource_type, id)| {
            resource_type == SECURITY_GROUP_TYPE
                && (!seen.contains(id.as_str()) || shared_in.contains_key(id.as_str()))
                && marked.insert(id.clone())
        })
        .map(|(resource_type, id)| {
            let gone = Resource {
                resource_type: resource_type.clone().into(),
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
            e.annotation = fit_annotation(&match shared_in.get(id.as_str()) {
                Some(owner) => format!(
                    "The security group is shared in from account {owner}: its owner's Config evaluates it (found by the scheduled sweep)"
                ),
                None => "The security group no longer exists (found missing by the scheduled sweep)"
                    .to_string(),
            });
            e
        })
        .collect()
}
