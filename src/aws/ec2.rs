//! EC2 reads: every security group and
//! the entries of managed prefix lists. Each read reports what it could not
//! read beside what it could; deciding what that means is the handler's job.

use super::ec2_sdk::SdkGroup;
use super::{describe, Deadline, Error};
use sg_egress_core::model::SecurityGroup;
use sg_egress_core::verdict::KnownPrefixLists;
use sg_egress_core::ReadError;
use std::collections::BTreeSet;

/// The largest page `DescribeSecurityGroups` and `DescribeNetworkInterfaces` return.
const EC2_PAGE_SIZE: i32 = 1000;
/// The largest page `GetManagedPrefixListEntries` returns.
const PREFIX_LIST_PAGE_SIZE: i32 = 100;

/// One element of `DescribeSecurityGroups`: whose it is, and the group, or
/// why it could not be read.
#[derive(Debug)]
pub struct DescribedGroup {
    pub group_id: String,
    pub owner_id: Option<String>,
    pub group: Result<SecurityGroup, ReadError>,
}

/// Every security group of the account and region, all pages. A group that
/// cannot be read is returned with its error rather than failing the others.
pub async fn describe_all_security_groups(
    client: &aws_sdk_ec2::Client,
    deadline: Deadline,
) -> Result<Vec<DescribedGroup>, Error> {
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
            groups.push(DescribedGroup {
                group_id: group.group_id().unwrap_or("(no GroupId)").to_string(),
                owner_id: group.owner_id().map(str::to_string),
                group: SecurityGroup::try_from(SdkGroup(group)),
            });
        }
    }
    Ok(groups)
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

/// The entries of the prefix lists that could be read, and why each other
/// list could not.
#[derive(Debug, Default)]
pub struct PrefixListsRead {
    pub known: KnownPrefixLists,
    pub unreadable: Vec<(String, String)>,
}

/// Reads the entries of each list (each list once, all pages). A list that
/// cannot be read is reported, never guessed.
pub async fn prefix_list_entries(
    client: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
    deadline: Deadline,
) -> Result<PrefixListsRead, Error> {
    let mut read = PrefixListsRead::default();
    for id in ids {
        match list_entries(client, id, deadline).await {
            Ok(cidrs) => {
                if let Err(e) = read.known.insert(id, &cidrs) {
                    read.unreadable.push((id.clone(), e));
                }
            }
            Err(e @ Error::Deadline(_)) => return Err(e),
            Err(e) => read.unreadable.push((id.clone(), e.to_string())),
        }
    }
    Ok(read)
}

async fn list_entries(
    client: &aws_sdk_ec2::Client,
    id: &str,
    deadline: Deadline,
) -> Result<Vec<String>, Error> {
    let mut pages = client
        .get_managed_prefix_list_entries()
        .prefix_list_id(id)
        .max_results(PREFIX_LIST_PAGE_SIZE)
        .into_paginator()
        .send();
    let mut cidrs = Vec::new();
    loop {
        deadline.check(|| format!("read {} entries of {id}, not all", cidrs.len()))?;
        let Some(page) = pages.next().await else {
            return Ok(cidrs);
        };
        let page =
            page.map_err(|e| describe(&format!("ec2:GetManagedPrefixListEntries for {id}"), e))?;
        cidrs.extend(
            page.entries()
                .iter()
                .filter_map(|e| e.cidr())
                .map(str::to_string),
        );
    }
}

/// The regions enabled for the account (`DescribeRegions`), sorted.
pub async fn enabled_regions(client: &aws_sdk_ec2::Client) -> Result<Vec<String>, Error> {
    let response = client
        .describe_regions()
        .send()
        .await
        .map_err(|e| describe("ec2:DescribeRegions", e))?;
    let mut regions: Vec<String> = response
        .regions()
        .iter()
        .filter_map(|r| r.region_name())
        .map(str::to_string)
        .collect();
    regions.sort();
    Ok(regions)
}

/// One group (its id, VPC, tags and egress), by id.
pub async fn describe_group(
    client: &aws_sdk_ec2::Client,
    group_id: &str,
) -> Result<SecurityGroup, Error> {
    let operation = format!("ec2:DescribeSecurityGroups for {group_id}");
    let groups = client
        .describe_security_groups()
        .group_ids(group_id)
        .send()
        .await
        .map_err(|e| describe(&operation, e))?;
    let group = groups
        .security_groups()
        .first()
        .ok_or_else(|| Error::call(operation.clone(), "no such group"))?;
    SecurityGroup::try_from(SdkGroup(group))
        .map_err(|e| Error::call(operation, format!("the group cannot be read: {e}")))
}
