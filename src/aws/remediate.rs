//! EC2 calls of the remediation: read a group's egress rules one by one,
//! authorize the narrower rules to keep, revoke by rule id.

use super::{describe, Error};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, Ipv6Range, PrefixListId};
use sg_egress_core::model::SecurityGroup;
use sg_egress_core::remediation::SecurityGroupRule;

/// The answer EC2 gives a dry run that would have succeeded.
const DRY_RUN_SUCCEEDED: &str = "DryRunOperation";

/// The outcome of a call that may be a dry run: EC2 answers a dry run that
/// would have succeeded with the error `DryRunOperation`, and one the caller
/// may not make with `UnauthorizedOperation`.
fn dry_run_outcome<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    dry_run: bool,
    operation: &str,
) -> Result<(), Error>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(e)) if dry_run && e.err().code() == Some(DRY_RUN_SUCCEEDED) => {
            Ok(())
        }
        Err(e) => Err(describe(operation, e)),
    }
}

/// The group (id, VPC, tags) and its egress rules.
pub async fn describe_group_rules(
    client: &aws_sdk_ec2::Client,
    group_id: &str,
) -> Result<(SecurityGroup, Vec<SecurityGroupRule>), Error> {
    let group = super::ec2::describe_group(client, group_id).await?;
    let mut pages = client
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group_id).build())
        .max_results(1000)
        .into_paginator()
        .send();
    let mut rules = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| describe(&format!("ec2:DescribeSecurityGroupRules for {group_id}"), e))?;
        for rule in page
            .security_group_rules()
            .iter()
            .filter(|r| r.is_egress() == Some(true))
        {
            rules.push(SecurityGroupRule {
                security_group_rule_id: rule
                    .security_group_rule_id()
                    .unwrap_or_default()
                    .to_string(),
                ip_protocol: rule.ip_protocol().unwrap_or("-1").to_string(),
                from_port: rule.from_port().map(i64::from).unwrap_or(-1),
                to_port: rule.to_port().map(i64::from).unwrap_or(-1),
                cidr_ipv4: rule.cidr_ipv4().map(str::to_string),
                cidr_ipv6: rule.cidr_ipv6().map(str::to_string),
                prefix_list_id: rule.prefix_list_id().map(str::to_string),
                referenced_group_id: rule
                    .referenced_group_info()
                    .and_then(|g| g.group_id())
                    .map(str::to_string),
                description: rule.description().map(str::to_string),
            });
        }
    }
    Ok((group, rules))
}

/// One rule as the SDK's permission: its protocol and ports, to its one
/// destination, with its description.
fn ip_permission(rule: &SecurityGroupRule) -> IpPermission {
    let description = rule.description.clone();
    IpPermission::builder()
        .ip_protocol(&rule.ip_protocol)
        .from_port(rule.from_port as i32)
        .to_port(rule.to_port as i32)
        .set_ip_ranges(rule.cidr_ipv4.as_ref().map(|cidr| {
            vec![IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description.clone())
                .build()]
        }))
        .set_ipv6_ranges(rule.cidr_ipv6.as_ref().map(|cidr| {
            vec![Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .set_description(description.clone())
                .build()]
        }))
        .set_prefix_list_ids(rule.prefix_list_id.as_ref().map(|id| {
            vec![PrefixListId::builder()
                .prefix_list_id(id)
                .set_description(description.clone())
                .build()]
        }))
        .build()
}

/// Adds the rules (KeepEgress) to the group's egress; with `dry_run`, asks
/// EC2 whether it would.
pub async fn authorize_egress(
    client: &aws_sdk_ec2::Client,
    group_id: &str,
    rules: &[SecurityGroupRule],
    dry_run: bool,
) -> Result<(), Error> {
    if rules.is_empty() {
        return Ok(());
    }
    let permissions: Vec<IpPermission> = rules.iter().map(ip_permission).collect();
    let result = client
        .authorize_security_group_egress()
        .group_id(group_id)
        .set_ip_permissions(Some(permissions))
        .dry_run(dry_run)
        .send()
        .await;
    dry_run_outcome(
        result,
        dry_run,
        &format!("ec2:AuthorizeSecurityGroupEgress for {group_id}"),
    )
}

/// Revokes the rules by their ids; with `dry_run`, asks EC2 whether it
/// would (which proves the role may revoke them).
pub async fn revoke_egress(
    client: &aws_sdk_ec2::Client,
    group_id: &str,
    rule_ids: &[String],
    dry_run: bool,
) -> Result<(), Error> {
    let result = client
        .revoke_security_group_egress()
        .group_id(group_id)
        .set_security_group_rule_ids(Some(rule_ids.to_vec()))
        .dry_run(dry_run)
        .send()
        .await;
    dry_run_outcome(
        result,
        dry_run,
        &format!("ec2:RevokeSecurityGroupEgress for {group_id}"),
    )
}
