//! AWS Config calls: PutEvaluations in batches with retries, the latest
//! configuration item of a resource, and the rule's earlier results.

use super::{describe, Deadline, Error};
use crate::json::Node;
use crate::model::Resource;
use crate::sources::config_item;
use crate::verdict::{Compliance, Evaluation};
use aws_sdk_config::primitives::{DateTime as SdkDateTime, DateTimeFormat};
use aws_sdk_config::types::{ComplianceType, Evaluation as SdkEvaluation, ResourceType};
use lambda_runtime::tracing;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// PutEvaluations takes at most 100 evaluations a call.
pub const PUT_EVALUATIONS_BATCH: usize = 100;
/// Batches sent at once.
pub const PUT_EVALUATIONS_CONCURRENCY: usize = 4;
/// Rounds of resending the evaluations a response lists as failed.
pub const FAILED_EVALUATION_RETRIES: u32 = 4;
/// The first pause before resending failed evaluations; it doubles each round.
pub const FAILED_EVALUATION_BACKOFF: Duration = Duration::from_millis(200);

/// Where to send evaluations.
#[derive(Debug, Clone)]
pub struct Destination {
    pub result_token: String,
    /// `resultToken` was `TESTMODE`: Config validates but stores nothing.
    pub test_mode: bool,
}

impl Destination {
    pub fn new(result_token: &str) -> Self {
        Destination {
            result_token: result_token.to_string(),
            test_mode: result_token == "TESTMODE",
        }
    }
}

fn to_sdk(evaluation: &Evaluation) -> Result<SdkEvaluation, Error> {
    let compliance = match evaluation.compliance_type {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    };
    Ok(SdkEvaluation::builder()
        .compliance_resource_type(&evaluation.compliance_resource_type)
        .compliance_resource_id(&evaluation.compliance_resource_id)
        .compliance_type(compliance)
        .set_annotation(evaluation.annotation.clone())
        .ordering_timestamp(SdkDateTime::from_millis(
            evaluation.ordering_timestamp.timestamp_millis(),
        ))
        .build()?)
}

/// Sends one batch, resending what the response lists as failed, with
/// backoff, a bounded number of times.
async fn put_batch(
    client: &aws_sdk_config::Client,
    destination: &Destination,
    batch: Vec<SdkEvaluation>,
) -> Result<(), Error> {
    let mut pending = batch;
    let mut pause = FAILED_EVALUATION_BACKOFF;
    for round in 0..=FAILED_EVALUATION_RETRIES {
        let response = client
            .put_evaluations()
            .set_evaluations(Some(pending.clone()))
            .result_token(&destination.result_token)
            .test_mode(destination.test_mode)
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
    Err(format!(
        "config:PutEvaluations still reported {} failed evaluations after {} retries: {}",
        ids.len(),
        FAILED_EVALUATION_RETRIES,
        ids.join(", ")
    )
    .into())
}

/// Sends every evaluation, in batches of at most 100, a few batches at a time.
/// No batch starts once the deadline is near; then, after the batches under way
/// finish, the error says how many evaluations were sent. Returns the number
/// of batches sent.
pub async fn put_evaluations_in_batches(
    client: &aws_sdk_config::Client,
    destination: &Destination,
    evaluations: &[Evaluation],
    deadline: Deadline,
) -> Result<usize, Error> {
    let sdk: Vec<SdkEvaluation> = evaluations.iter().map(to_sdk).collect::<Result<_, _>>()?;
    let mut batches = sdk.chunks(PUT_EVALUATIONS_BATCH).map(<[_]>::to_vec);
    let count = batches.len();
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
            let (client, destination) = (client.clone(), destination.clone());
            running.spawn(async move {
                let size = batch.len();
                put_batch(&client, &destination, batch).await.map(|()| size)
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
                first_error.get_or_insert(format!("a PutEvaluations task failed: {join}").into());
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if stopped_for_deadline {
        return Err(Box::new(super::DeadlineReached(format!(
            "sent {evaluations_sent} of {} evaluations in {batches_sent} of {count} PutEvaluations batches",
            evaluations.len()
        ))));
    }
    Ok(count)
}

/// The latest configuration item of a resource (for oversized notifications),
/// read through the same parser as every other item.
pub async fn latest_item(
    client: &aws_sdk_config::Client,
    resource_type: &str,
    resource_id: &str,
) -> Result<Resource, Error> {
    let response = client
        .get_resource_config_history()
        .resource_type(ResourceType::from(resource_type))
        .resource_id(resource_id)
        .limit(1)
        .send()
        .await
        .map_err(|e| {
            describe(
                &format!("config:GetResourceConfigHistory for {resource_id}"),
                e,
            )
        })?;
    let item = response.configuration_items().first().ok_or_else(|| {
        format!("config:GetResourceConfigHistory returned no item for {resource_id}")
    })?;
    let mut value = Map::new();
    let mut put = |key: &str, v: Option<Value>| {
        if let Some(v) = v {
            value.insert(key.to_string(), v);
        }
    };
    put(
        "resourceType",
        item.resource_type().map(|t| json!(t.as_str())),
    );
    put("resourceId", item.resource_id().map(|id| json!(id)));
    put(
        "configurationItemStatus",
        item.configuration_item_status().map(|s| json!(s.as_str())),
    );
    put(
        "configurationItemCaptureTime",
        item.configuration_item_capture_time()
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
            .map(Value::String),
    );
    put("configuration", item.configuration().map(|c| json!(c)));
    put("tags", item.tags().map(|t| json!(t)));
    put(
        "relationships",
        Some(Value::Array(
            item.relationships()
                .iter()
                .map(|r| json!({"resourceType": r.resource_type().map(|t| t.as_str()), "resourceId": r.resource_id()}))
                .collect(),
        )),
    );
    let value = Value::Object(value);
    let name = format!("GetResourceConfigHistory({resource_id})");
    Ok(config_item::read_item(&Node::root(&value, &name), false)?)
}

/// The resources the rule last judged COMPLIANT or NON_COMPLIANT, all pages.
pub async fn previously_judged(
    client: &aws_sdk_config::Client,
    rule_name: &str,
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
    while let Some(page) = pages.next().await {
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
