//! EC2 reads: every security group, which groups network interfaces use, and
//! the entries of managed prefix lists.

use super::{describe, Deadline, Error};
use crate::model::{SecurityGroup, Usage};
use crate::sources::ec2_sdk::read_sdk_group;
use crate::verdict::KnownPrefixLists;
use std::collections::{BTreeSet, HashSet};

/// The largest page `DescribeSecurityGroups` and `DescribeNetworkInterfaces` return.
const EC2_PAGE_SIZE: i32 = 1000;
/// The largest page `GetManagedPrefixListEntries` returns.
const PREFIX_LIST_PAGE_SIZE: i32 = 100;

/// Every security group of the account and region, all pages.
pub async fn describe_all_security_groups(
    client: &aws_sdk_ec2::Client,
    deadline: Deadline,
) -> Result<Vec<SecurityGroup>, Error> {
    let mut pages = client
        .describe_security_groups()
        .max_results(EC2_PAGE_SIZE)
        .into_paginator()
        .send();
    let mut groups = Vec::new();
    loop {
        deadline.check(|| format!("read {} security groups, not all", groups.len()))?;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| describe("ec2:DescribeSecurityGroups", e))?;
        for group in page.security_groups() {
            groups.push(read_sdk_group(group)?);
        }
    }
    Ok(groups)
}

/// The ids of the groups attached to at least one network interface, in one
/// pass over every interface of the account and region.
pub async fn group_ids_in_use(client: &aws_sdk_ec2::Client) -> Result<HashSet<String>, Error> {
    let mut pages = client
        .describe_network_interfaces()
        .max_results(EC2_PAGE_SIZE)
        .into_paginator()
        .send();
    let mut in_use = HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| describe("ec2:DescribeNetworkInterfaces", e))?;
        for interface in page.network_interfaces() {
            in_use.extend(
                interface
                    .groups()
                    .iter()
                    .filter_map(|g| g.group_id())
                    .map(str::to_string),
            );
        }
    }
    Ok(in_use)
}

/// Marks each group used or unused from the set of ids in use.
pub fn apply_usage(groups: &mut [SecurityGroup], in_use: &HashSet<String>) {
    for group in groups {
        group.usage = if in_use.contains(&group.group_id) {
            Usage::InUse
        } else {
            Usage::Unused
        };
    }
}

/// The prefix lists the groups' egress refers to, each once.
pub fn referenced_prefix_lists<'a>(
    groups: impl IntoIterator<Item = &'a SecurityGroup>,
) -> BTreeSet<String> {
    groups
        .into_iter()
        .flat_map(|g| &g.egress)
        .flat_map(|p| &p.prefix_list_ids)
        .cloned()
        .collect()
}

/// Reads the entries of each list (each list once, all pages). A list that
/// cannot be read fails the whole invocation: guessing would risk a wrong
/// verdict.
pub async fn prefix_list_entries(
    client: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
) -> Result<KnownPrefixLists, Error> {
    let mut lists = KnownPrefixLists::new();
    for id in ids {
        let mut pages = client
            .get_managed_prefix_list_entries()
            .prefix_list_id(id)
            .max_results(PREFIX_LIST_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut cidrs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| describe(&format!("ec2:GetManagedPrefixListEntries for {id}"), e))?;
            cidrs.extend(
                page.entries()
                    .iter()
                    .filter_map(|e| e.cidr())
                    .map(str::to_string),
            );
        }
        lists.insert(id, &cidrs)?;
    }
    Ok(lists)
}
