//! `sg-egress scan`: the sweep the Lambda makes on a schedule, run from a
//! workstation with the default credential chain, printing instead of
//! sending: one region, several, every enabled region, or every account and
//! region an AWS Config aggregator holds.

use super::sweep::sweep;
use crate::aws::aggregator::select_security_groups;
use crate::aws::ec2::enabled_regions;
use crate::aws::sts::caller_account;
use crate::aws::{load_sdk_config, Clients, Deadline};
use sg_egress_core::read::read_item;
use sg_egress_core::verdict::{evaluate, Evaluation, KnownPrefixLists};
use sg_egress_core::Parameters;
use std::io::Write;

/// What a scan covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One region (`None`: the SDK's usual chain, AWS_REGION, profile…).
    Region(Option<String>),
    /// These regions of the caller's account.
    Regions(Vec<String>),
    /// Every region enabled for the caller's account.
    AllRegions,
    /// Every account and region an AWS Config aggregator holds (queried in
    /// the region of `Region`'s chain, where the aggregator lives).
    Aggregator {
        name: String,
        region: Option<String>,
    },
}

/// One evaluation, with where its group lives when the scan spans more than
/// one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub account: Option<String>,
    pub region: Option<String>,
    pub evaluation: Evaluation,
    /// An open group's exposure, when its network was read.
    pub exposure: Option<sg_egress_core::exposure::Exposure>,
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub rows: Vec<Row>,
    /// Groups that could not be evaluated, and why.
    pub left_out: Vec<(String, String)>,
    /// What the scan could not see, for the user (stderr).
    pub notes: Vec<String>,
}

/// Runs a scan. `progress` writes how far it got to `stderr` (for a terminal).
pub fn run(
    scope: Scope,
    profile: Option<String>,
    parameters: &Parameters,
    stderr: &mut dyn Write,
    progress: bool,
) -> Result<ScanResult, String> {
    if let Some(role) = &parameters.execution_role_name {
        let _ = writeln!(stderr, "sg-egress: note: ExecutionRoleName {role} is ignored by scan, which uses your own credentials");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let mut report = |text: String| {
            if progress {
                let _ = write!(stderr, "\r\x1b[2Ksg-egress: {text}");
                let _ = stderr.flush();
            }
        };
        let result = match scope {
            Scope::Aggregator { name, region } => {
                scan_aggregator(&name, region, profile, parameters, &mut report).await
            }
            regions => match regions_of(regions, profile.clone()).await {
                Ok(regions) => scan_regions(regions, profile, parameters, &mut report).await,
                Err(e) => Err(e),
            },
        };
        if progress {
            let _ = writeln!(stderr);
        }
        result
    })
}

/// The regions a scope of one account names.
async fn regions_of(scope: Scope, profile: Option<String>) -> Result<Vec<Option<String>>, String> {
    Ok(match scope {
        Scope::Region(region) => vec![region],
        Scope::Regions(regions) => regions.into_iter().map(Some).collect(),
        Scope::AllRegions => {
            let base = configured(None, profile).await?;
            enabled_regions(&aws_sdk_ec2::Client::new(&base))
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(Some)
                .collect()
        }
        Scope::Aggregator { .. } => Vec::new(),
    })
}

/// The SDK configuration for a region; an error when no region is known.
async fn configured(
    region: Option<String>,
    profile: Option<String>,
) -> Result<aws_config::SdkConfig, String> {
    let config = load_sdk_config(region, profile).await;
    if config.region().is_none() {
        return Err("no AWS region: pass --region or set AWS_REGION".to_string());
    }
    Ok(config)
}

/// Sweeps the groups the caller's account owns in each region, in turn.
async fn scan_regions(
    regions: Vec<Option<String>>,
    profile: Option<String>,
    parameters: &Parameters,
    report: &mut dyn FnMut(String),
) -> Result<ScanResult, String> {
    let several = regions.len() > 1;
    let mut result = ScanResult::default();
    let mut account: Option<String> = None;
    for (index, region) in regions.iter().enumerate() {
        let config = configured(region.clone(), profile.clone()).await?;
        let region_name = config.region().map(|r| r.to_string());
        report(format!(
            "scanning {} ({} of {})",
            region_name.as_deref().unwrap_or("?"),
            index + 1,
            regions.len()
        ));
        if account.is_none() {
            account = Some(caller_account(&config).await.map_err(|e| e.to_string())?);
        }
        let now = chrono::Utc::now();
        let swept = sweep(
            &Clients::new(&config),
            parameters,
            account.as_deref(),
            now,
            now,
            Deadline::none(),
        )
        .await
        .map_err(|e| match (&region_name, several) {
            (Some(r), true) => format!("{r}: {e}"),
            _ => e.to_string(),
        })?;
        let mut exposures = swept.exposures;
        result
            .rows
            .extend(swept.evaluations.into_iter().map(|evaluation| Row {
                account: account.clone(),
                region: region_name.clone(),
                exposure: exposures.remove(&evaluation.compliance_resource_id),
                evaluation,
            }));
        result.left_out.extend(swept.left_out);
    }
    Ok(result)
}

/// Evaluates every security group an aggregator holds. Only Config's items
/// are read: prefix lists cannot be resolved in other accounts (they count as
/// restricted, and the groups that name one are listed in a note), and a
/// group counts as used unless its item's relationships prove use.
async fn scan_aggregator(
    name: &str,
    region: Option<String>,
    profile: Option<String>,
    parameters: &Parameters,
    report: &mut dyn FnMut(String),
) -> Result<ScanResult, String> {
    let config = configured(region, profile).await?;
    let client = aws_sdk_config::Client::new(&config);
    let rows = select_security_groups(&client, name, Deadline::none(), |n| {
        report(format!("read {n} security groups from aggregator {name}"))
    })
    .await
    .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let mut result = ScanResult::default();
    let mut with_prefix_lists = Vec::new();
    for (index, text) in rows.iter().enumerate() {
        let place = format!("SelectAggregateResourceConfig.Results[{index}]");
        let row: RowPlace = serde_json::from_str(text).unwrap_or_default();
        // One row that cannot be read spoils no other: it is left out, named,
        // and the scan ends incomplete.
        let resource = match read_item(text.as_bytes(), &place) {
            Ok(resource) => resource,
            Err(e) => {
                let id = match (&row.resource_id, &row.account_id, &row.aws_region) {
                    (Some(id), Some(account), Some(region)) => {
                        format!("{id} of {account} in {region}")
                    }
                    (Some(id), _, _) => id.clone(),
                    _ => place,
                };
                result.left_out.push((id, e.to_string()));
                continue;
            }
        };
        if let Some(group) = &resource.group {
            if group.egress.iter().any(|p| !p.prefix_list_ids.is_empty()) {
                with_prefix_lists.push(group.group_id.clone());
            }
        }
        result.rows.push(Row {
            account: row.account_id,
            region: row.aws_region,
            evaluation: evaluate(&resource, parameters, &KnownPrefixLists::new(), now, now),
            exposure: None,
        });
    }
    if !with_prefix_lists.is_empty() {
        result.notes.push(format!(
            "prefix lists are not resolved through an aggregator and count as restricted; these groups name one (scan their accounts with `sg-egress scan --region …` to resolve them): {}",
            with_prefix_lists.join(", ")
        ));
    }
    if parameters.ignore_unused_groups {
        result.notes.push("IgnoreUnusedGroups: through an aggregator a group counts as used unless its item's relationships prove use (no network interfaces are read)".to_string());
    }
    Ok(result)
}

/// Where an aggregator's row comes from.
#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RowPlace {
    resource_id: Option<String>,
    account_id: Option<String>,
    aws_region: Option<String>,
}
