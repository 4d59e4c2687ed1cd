//! AWS Config aggregators: every security group an aggregator holds, across
//! the accounts and regions it collects, through one advanced query.

use super::{describe, Deadline, Error};

/// The advanced query: the fields the rule reads, of every security group.
pub const SECURITY_GROUPS_QUERY: &str = "SELECT accountId, awsRegion, resourceId, resourceType, configurationItemStatus, configurationItemCaptureTime, configuration, tags, relationships WHERE resourceType = 'AWS::EC2::SecurityGroup'";

/// The largest page `SelectAggregateResourceConfig` returns.
const PAGE_SIZE: i32 = 100;

/// Every result row (JSON text of one configuration item), all pages;
/// `progress` is told how many rows have arrived after each page.
pub async fn select_security_groups(
    client: &aws_sdk_config::Client,
    aggregator: &str,
    deadline: Deadline,
    mut progress: impl FnMut(usize),
) -> Result<Vec<String>, Error> {
    let mut rows = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        deadline.check(|| {
            format!(
                "read {} rows of aggregator {aggregator}, not all",
                rows.len()
            )
        })?;
        let page = client
            .select_aggregate_resource_config()
            .configuration_aggregator_name(aggregator)
            .expression(SECURITY_GROUPS_QUERY)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| {
                describe(
                    &format!("config:SelectAggregateResourceConfig on {aggregator}"),
                    e,
                )
            })?;
        rows.extend(page.results().iter().cloned());
        progress(rows.len());
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(rows),
        }
    }
}
