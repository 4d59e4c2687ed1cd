//! A sweep at the scale of a large account: 20,000 groups, with 10% of the
//! calls to every operation throttled. Every group is evaluated exactly once
//! with the right verdict, the calls that succeeded are the minimal ones, and
//! the sweep's time is printed (BENCHMARKS.md records it, and the CDK app's
//! function timeout is set from it).
#![cfg(feature = "aws")]

mod support;

use serde_json::json;
use std::collections::BTreeMap;
use support::*;

const GROUPS: usize = 20_000;

#[tokio::test]
async fn twenty_thousand_groups_with_ten_percent_throttling() {
    let emulator = Emulator::start();
    let created = emulator.control(
        "bulk-groups",
        json!({"count": GROUPS, "kinds": ["open", "closed"]}),
    );
    let mut expected: BTreeMap<String, &str> = created["groupIds"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let verdict = if i % 2 == 0 {
                "NON_COMPLIANT"
            } else {
                "COMPLIANT"
            };
            (id.as_str().unwrap().to_string(), verdict)
        })
        .collect();
    for id in Account::new(&emulator).await.all_group_ids().await {
        // The VPCs' default groups: default egress.
        expected.entry(id).or_insert("NON_COMPLIANT");
    }
    let total = expected.len();
    let _function = emulator.function();
    let token = emulator.result_token();
    let before = emulator.get("calls");
    // 10% of every operation's calls throttled, and a burst: the sweep's
    // first page throttled three times running (three attempts, the SDK's
    // default, would fail the sweep there).
    emulator.faults(json!([
        {"operation": "DescribeSecurityGroups", "kind": "throttle", "rate": 1.0, "times": 3},
        {"operation": "*", "kind": "throttle", "rate": 0.1},
    ]));
    let started = std::time::Instant::now();
    let answer = emulator.control(
        "invoke",
        json!({"event": lambda_event(scheduled_notification(), json!({}), &token),
               "deadlineSeconds": 900, "timeoutSeconds": 900}),
    );
    let elapsed = started.elapsed();
    assert_eq!(answer["outcome"], "response", "{answer}");

    let mut sent = BTreeMap::new();
    for call in emulator.put_calls() {
        for e in call["evaluations"].as_array().unwrap() {
            let id = e["ComplianceResourceId"].as_str().unwrap().to_string();
            assert!(
                sent.insert(id.clone(), e["ComplianceType"].clone())
                    .is_none(),
                "{id} sent twice"
            );
        }
    }
    assert_eq!(sent.len(), total, "every group evaluated");
    for (id, verdict) in &expected {
        assert_eq!(sent[id], *verdict, "{id}");
    }

    let after = emulator.get("calls");
    let succeeded = |op: &str| {
        let count = |v: &serde_json::Value| v[op].as_u64().unwrap_or(0);
        let faulted = |v: &serde_json::Value| v["faulted"][op].as_u64().unwrap_or(0);
        (count(&after) - count(&before)) - (faulted(&after) - faulted(&before))
    };
    let throttled: u64 = [
        "DescribeSecurityGroups",
        "GetComplianceDetailsByConfigRule",
        "PutEvaluations",
    ]
    .iter()
    .map(|op| after["faulted"][op].as_u64().unwrap_or(0))
    .sum();
    assert_eq!(
        succeeded("DescribeSecurityGroups"),
        total.div_ceil(1000) as u64
    );
    assert_eq!(succeeded("GetComplianceDetailsByConfigRule"), 1);
    assert_eq!(succeeded("PutEvaluations"), total.div_ceil(100) as u64);
    // Once, for the exposure of every VPC with an open group.
    assert_eq!(succeeded("DescribeNetworkInterfaces"), 1);
    assert_eq!(succeeded("DescribeRouteTables"), 1);
    assert!(throttled > 0, "the throttling happened");
    eprintln!(
        "sweep of {total} groups, 10% of calls throttled ({throttled} throttled): {:.1} s",
        elapsed.as_secs_f64()
    );
}
