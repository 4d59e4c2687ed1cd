//! AWS Config calls: PutEvaluations in batches with retries, the latest
//! configuration item of a resource, and the rule's earlier results.

use super::{describe, Deadline, Error};
use aws_sdk_config::primitives::DateTime as SdkDateTime;
use aws_sdk_config::types::{ComplianceType, Evaluation as SdkEvaluation, ResourceType};
use lambda_runtime::tracing;
use sg_egress_core::model::Resource;
use sg_egress_core::read::ItemFields;
use sg_egress_core::verdict::{Compliance, Evaluation};
use std::time::Duration;

/// PutEvaluations takes at most 100 evaluations a call.
pub const PUT_EVALUATIONS_BATCH: usize = 100;
/// Batches sent at once.
pub const PUT_EVALUATIONS_CONCURRENCY: usize = 4;
/// Rounds of resending the evaluations a response lists as failed.
pub const FAILED_EVALUATION_RETRIES: u32 = 4;
/// The first pause before resending failed evaluations; it doubles each round.
pub const FAILED_EVALUATION_BACKOFF: Duration = Duration::from_millis(200);

/// The event's `resultToken`: where PutEvaluations sends evaluations.
#[derive(Debug, Clone)]
pub struct ResultToken {
    pub token: String,
    /// The token was `TESTMODE`: Config validates but stores nothing.
    pub test_mode: bool,
}

impl ResultToken {
    pub fn new(token: &str) -> Self {
        ResultToken {
            token: token.to_string(),
            test_mode: token == "TESTMODE",
        }
    }
}

fn to_sdk(evaluation: &Evaluation) -> Result<SdkEvaluation, Error> {
    let compliance = match evaluation.compliance_type {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    };
    SdkEvaluation::builder()
        .compliance_resource_type(evaluation.compliance_resource_type.as_ref())
        .compliance_resource_id(&evaluation.compliance_resource_id)
        .compliance_type(compliance)
        .set_annotation(evaluation.annotation.clone())
        .ordering_timestamp(SdkDateTime::from_millis(
            evaluation.ordering_timestamp.timestamp_millis(),
        ))
        .build()
        .map_err(|e| describe("config:PutEvaluations", e))
}

/// Sends one batch, resending what the response lists as failed, with
/// backoff, a bounded number of times.
async fn put_batch(
    client: &aws_sdk_config::Client,
    token: &ResultToken,
    batch: Vec<SdkEvaluation>,
) -> Result<(), Error> {
    let mut pending = batch;
    let mut pause = FAILED_EVALUATION_BACKOFF;
    for round in 0..=FAILED_EVALUATION_RETRIES {
        let response = client
            .put_evaluations()
            .set_evaluations(Some(pending.clone()))
            .result_token(&token.token)
            .test_mode(token.test_mode)
            .send()
            .await
            .map_err(|e| describe("config:PutEvaluations", e))?;
        let failed = response.failed_evaluations().to_vec();
        if failed.is_empty() {
            return Ok(());
        }
        tracing::warn!(
            round,
            failed = failed.len(),
            "PutEvaluations reported failed evaluations; resending them"
        );
        pending = failed;
        if round < FAILED_EVALUATION_RETRIES {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    let ids: Vec<&str> = pending.iter().map(|e| e.compliance_resource_id()).collect();
    Err(Error::call(
        "config:PutEvaluations",
        format!(
            "it still reported {} failed evaluations after {} retries: {}",
            ids.len(),
            FAILED_EVALUATION_RETRIES,
            ids.join(", ")
        ),
    ))
}

/// Sends every evaluation, in batches of at most 100, a few batches at a time
/// (no evaluations: one call with an empty list). No batch starts once the
/// deadline is near; then, after the batches under way
/// finish, the error says how many evaluations were sent. Returns the number
/// of batches sent.
pub async fn put_evaluations_in_batches(
    client: &aws_sdk_config::Client,
    token: &ResultToken,
    evaluations: &[Evaluation],
    deadline: Deadline,
) -> Result<usize, Error> {
    let sdk: Vec<SdkEvaluation> = evaluations.iter().map(to_sdk).collect::<Result<_, _>>()?;
    // No evaluations still makes one call, so that Config records the run.
    let batches: Vec<Vec<SdkEvaluation>> = if sdk.is_empty() {
        vec![Vec::new()]
    } else {
        sdk.chunks(PUT_EVALUATIONS_BATCH)
            .map(<[_]>::to_vec)
            .collect()
    };
    let count = batches.len();
    let mut batches = batches.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut first_error: Option<Error> = None;
    let mut stopped_for_deadline = false;
    let (mut batches_sent, mut evaluations_sent) = (0usize, 0usize);
    loop {
        while running.len() < PUT_EVALUATIONS_CONCURRENCY
            && first_error.is_none()
            && !stopped_for_deadline
        {
            if batches.len() > 0 && !deadline.allows_new_work() {
                stopped_for_deadline = true;
                break;
            }
            let Some(batch) = batches.next() else { break };
            let (client, token) = (client.clone(), token.clone());
            running.spawn(async move {
                let size = batch.len();
                put_batch(&client, &token, batch).await.map(|()| size)
            });
        }
        match running.join_next().await {
            None => break,
            Some(Ok(Ok(size))) => {
                batches_sent += 1;
                evaluations_sent += size;
            }
            Some(Ok(Err(e))) => {
                first_error.get_or_insert(e);
            }
            Some(Err(join)) => {
                first_error.get_or_insert(Error::call(
                    "config:PutEvaluations",
                    format!("a batch's task ended abnormally: {join}"),
                ));
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if stopped_for_deadline {
        return Err(Error::Deadline(format!(
            "sent {evaluations_sent} of {} evaluations in {batches_sent} of {count} PutEvaluations batches",
            evaluations.len()
        )));
    }
    Ok(count)
}

/// The latest configuration item of a resource (for oversized notifications),
/// read through the same parser as every other item. Config may answer a
/// page with no item and a `nextToken`; the pages are followed until an item
/// arrives.
pub async fn latest_item(
    client: &aws_sdk_config::Client,
    resource_type: &str,
    resource_id: &str,
    deadline: Deadline,
) -> Result<Resource, Error> {
    let mut next_token: Option<String> = None;
    let mut pages = 0usize;
    let item = loop {
        deadline.check(|| format!("read {pages} empty pages of the history of {resource_id}"))?;
        let response = client
            .get_resource_config_history()
            .resource_type(ResourceType::from(resource_type))
            .resource_id(resource_id)
            .limit(1)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| {
                describe(
                    &format!("config:GetResourceConfigHistory for {resource_id}"),
                    e,
                )
            })?;
        pages += 1;
        if let Some(item) = response.configuration_items().first() {
            break item.clone();
        }
        match response.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => {
                return Err(Error::call(
                    format!("config:GetResourceConfigHistory for {resource_id}"),
                    format!("no item in {pages} pages"),
                ))
            }
        }
    };
    let fields = ItemFields {
        resource_type: item.resource_type().map(|t| t.as_str()),
        resource_id: item.resource_id(),
        status: item.configuration_item_status().map(|s| s.as_str()),
        captured_at: item
            .configuration_item_capture_time()
            .and_then(|t| chrono::DateTime::from_timestamp_millis(t.to_millis().ok()?)),
        configuration: item.configuration(),
        tags: item
            .tags()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        related_types: Some(
            item.relationships()
                .iter()
                .filter_map(|r| r.resource_type().map(|t| t.as_str().to_string()))
                .collect(),
        ),
    };
    Resource::try_from(fields).map_err(|e| {
        Error::call(
            format!("config:GetResourceConfigHistory for {resource_id}"),
            format!("the item cannot be read: {e}"),
        )
    })
}

/// The `InputParameters` of a Config rule as they are now (JSON text, `""`
/// when it has none).
pub async fn rule_parameters(
    client: &aws_sdk_config::Client,
    rule_name: &str,
) -> Result<String, Error> {
    let response = client
        .describe_config_rules()
        .config_rule_names(rule_name)
        .send()
        .await
        .map_err(|e| describe(&format!("config:DescribeConfigRules for {rule_name}"), e))?;
    let rule = response
        .config_rules()
        .iter()
        .find(|r| r.config_rule_name() == Some(rule_name))
        .ok_or_else(|| {
            Error::call(
                format!("config:DescribeConfigRules for {rule_name}"),
                "no rule of that name",
            )
        })?;
    Ok(rule.input_parameters().unwrap_or_default().to_string())
}

/// The resources the rule last judged COMPLIANT or NON_COMPLIANT, all pages.
pub async fn previously_judged(
    client: &aws_sdk_config::Client,
    rule_name: &str,
    deadline: Deadline,
) -> Result<Vec<(String, String)>, Error> {
    let mut pages = client
        .get_compliance_details_by_config_rule()
        .config_rule_name(rule_name)
        .compliance_types(ComplianceType::Compliant)
        .compliance_types(ComplianceType::NonCompliant)
        .limit(100)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    loop {
        deadline.check(|| format!("read {} earlier results, not all", out.len()))?;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| describe("config:GetComplianceDetailsByConfigRule", e))?;
        for result in page.evaluation_results() {
            if let Some(q) = result
                .evaluation_result_identifier()
                .and_then(|i| i.evaluation_result_qualifier())
            {
                if let (Some(t), Some(id)) = (q.resource_type(), q.resource_id()) {
                    out.push((t.to_string(), id.to_string()));
                }
            }
        }
    }
    Ok(out)
}
