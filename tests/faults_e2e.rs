//! Fault injection through the emulator: throttling and 500s on 30% of calls,
//! partial FailedEvaluations, and a slow Config that pushes a sweep into the
//! Lambda deadline. After every invocation: either it sent every group exactly
//! one evaluation with the right verdict, or it failed loudly. What is checked
//! is what that invocation sent (the PutEvaluations calls it made), never
//! Config's accumulated state, which earlier invocations also wrote.
#![cfg(feature = "aws")]

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::*;

/// 30% of calls to each operation fail: half throttled, half 500.
fn thirty_percent(operations: &[&str]) -> Value {
    Value::Array(
        operations
            .iter()
            .flat_map(|op| {
                [
                    json!({"operation": op, "kind": "throttle", "rate": 0.15}),
                    // 0.15 of the remaining 0.85.
                    json!({"operation": op, "kind": "error", "rate": 0.1765}),
                ]
            })
            .collect(),
    )
}

/// Creates groups of four kinds; returns each group's expected verdict.
async fn groups(account: &Account, n: usize) -> BTreeMap<String, &'static str> {
    let mut expected = BTreeMap::new();
    for i in 0..n {
        let (egress, verdict) = match i % 4 {
            0 => (None, "NON_COMPLIANT"),
            1 => (
                Some(vec![ipv4("tcp", Some((443, 443)), "0.0.0.0/0")]),
                "COMPLIANT",
            ),
            2 => (Some(vec![ipv6("-1", "::/0")]), "NON_COMPLIANT"),
            _ => (Some(vec![]), "COMPLIANT"),
        };
        expected.insert(account.group(&format!("g{i}"), egress).await, verdict);
    }
    for id in account.all_group_ids().await {
        // The VPCs' default groups: default egress.
        expected.entry(id).or_insert("NON_COMPLIANT");
    }
    expected
}

/// The evaluations sent by the PutEvaluations calls after the first `from`,
/// by resource id; a resource sent twice fails.
fn sent_since(emulator: &Emulator, from: usize) -> BTreeMap<String, Value> {
    let mut sent = BTreeMap::new();
    for call in &emulator.put_calls()[from..] {
        for e in call["evaluations"].as_array().unwrap() {
            let id = e["ComplianceResourceId"].as_str().unwrap().to_string();
            assert!(
                sent.insert(id.clone(), e.clone()).is_none(),
                "{id} sent twice by one invocation"
            );
        }
    }
    sent
}

/// The invocation that made the calls after `from` sent every group exactly
/// once, with its verdict, and nothing else.
fn assert_every_group_sent_once(
    emulator: &Emulator,
    from: usize,
    expected: &BTreeMap<String, &'static str>,
) {
    let sent = sent_since(emulator, from);
    for (id, verdict) in expected {
        let e = sent
            .get(id)
            .unwrap_or_else(|| panic!("{id} was not sent by this invocation"));
        assert_eq!(e["ComplianceType"], *verdict, "{id}");
    }
    assert_eq!(sent.len(), expected.len(), "nothing but the groups");
}

#[tokio::test]
async fn sweeps_under_thirty_percent_faults_end_right_or_fail_loudly() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let expected = groups(&account, 250).await;
    emulator.control("page-size", json!({"DescribeSecurityGroups": 100}));
    let _function = emulator.function();
    let token = emulator.result_token();
    emulator.faults(thirty_percent(&[
        "DescribeSecurityGroups",
        "PutEvaluations",
        "GetComplianceDetailsByConfigRule",
    ]));

    let mut successes = 0;
    let mut failures = 0;
    for _ in 0..12 {
        let from = emulator.put_calls().len();
        let (outcome, body) =
            emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
        if outcome == "response" {
            successes += 1;
            assert_eq!(body["evaluations"], json!(expected.len()));
            assert_every_group_sent_once(&emulator, from, &expected);
        } else {
            failures += 1;
            assert_eq!(outcome, "error");
            assert_eq!(body["errorType"], "AwsCallFailed", "{body}");
            assert!(
                body["errorMessage"].as_str().unwrap().contains(" failed: "),
                "{body}"
            );
        }
        if successes >= 3 {
            break;
        }
    }
    eprintln!("under 30% faults: {successes} successful sweeps, {failures} failed invocations");
    assert!(successes >= 3, "{successes} successes, {failures} failures");
    // The faults really happened.
    let calls = emulator.calls("PutEvaluations");
    assert!(
        calls > emulator.put_calls().len() as u64,
        "some PutEvaluations calls were rejected and retried"
    );
}

#[tokio::test]
async fn no_stale_compliant_survives_a_group_that_opened() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let mut expected = groups(&account, 40).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_every_group_sent_once(&emulator, 0, &expected);

    // A compliant group opens; the next successful sweep under faults must say so.
    let opened = expected
        .iter()
        .find(|(_, v)| **v == "COMPLIANT")
        .map(|(id, _)| id.clone())
        .unwrap();
    account
        .ec2
        .authorize_security_group_egress()
        .group_id(&opened)
        .ip_permissions(ipv4("-1", None, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    expected.insert(opened.clone(), "NON_COMPLIANT");
    let mut rules = thirty_percent(&[
        "DescribeSecurityGroups",
        "PutEvaluations",
        "GetComplianceDetailsByConfigRule",
        "GetResourceConfigHistory",
    ]);
    rules
        .as_array_mut()
        .unwrap()
        .push(json!({"operation": "PutEvaluations", "kind": "failed_evaluations", "rate": 0.3}));
    emulator.faults(rules);
    let mut succeeded = None;
    for _ in 0..12 {
        let from = emulator.put_calls().len();
        let (outcome, _) =
            emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
        if outcome == "response" {
            succeeded = Some(from);
            break;
        }
    }
    let from = succeeded.expect("Config's retries end in a success");
    assert_every_group_sent_once(&emulator, from, &expected);
    let sweep_time = sent_since(&emulator, from)[&opened]["OrderingTimestamp"].clone();

    // An oversized change of the same group, under the same faults.
    let summary = json!({
        "configurationItemSummary": {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": opened, "configurationItemStatus": "OK",
                                     "configurationItemCaptureTime": "2026-11-26T10:00:00.000Z"},
        "messageType": "OversizedConfigurationItemChangeNotification", "notificationCreationTime": "2026-11-26T10:00:01.000Z",
    });
    let mut answered = None;
    for _ in 0..12 {
        let from = emulator.put_calls().len();
        let (outcome, body) = emulator.invoke(&lambda_event(summary.clone(), json!({}), &token));
        if outcome == "response" {
            answered = Some(from);
            break;
        }
        assert_eq!(body["errorType"], "AwsCallFailed", "{body}");
    }
    let from = answered.expect("Config's retries end in a success");
    // The oversized invocation itself sent a new evaluation of the group,
    // from the item Config holds now: later than the sweep's.
    let sent = sent_since(&emulator, from);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[&opened]["ComplianceType"], "NON_COMPLIANT");
    let time = |v: &Value| v.as_f64().expect("epoch seconds, as the SDK sends them");
    assert!(
        time(&sent[&opened]["OrderingTimestamp"]) > time(&sweep_time),
        "{} after {}",
        sent[&opened]["OrderingTimestamp"],
        sweep_time
    );
}

#[tokio::test]
async fn a_slow_config_stops_the_sweep_before_the_deadline_and_reports_what_was_sent() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let expected = groups(&account, 450).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    emulator.faults(json!([{"operation": "PutEvaluations", "kind": "slow", "delay": 2.0}]));
    let event = lambda_event(scheduled_notification(), json!({}), &token);
    let answer = emulator.control(
        "invoke",
        json!({"event": event, "deadlineSeconds": 7, "timeoutSeconds": 60}),
    );
    assert_eq!(answer["outcome"], "error", "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["errorType"], "DeadlineApproaching", "{body}");
    let message = body["errorMessage"].as_str().unwrap();
    let sent: usize = message
        .split("sent ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    assert!(
        message.contains(&format!("of {} evaluations", expected.len())),
        "{message}"
    );
    assert!(
        sent > 0 && sent < expected.len(),
        "some batches, not all: {message}"
    );
    assert_eq!(
        emulator.stored().len(),
        sent,
        "what it reports is what Config received"
    );
}
