//! The real function binary, run against the Lambda Runtime API and the AWS
//! emulator: each test creates groups in EC2, invokes the function, and reads
//! back exactly what Config received.
#![cfg(feature = "aws")]

mod catalogue;
mod support;

use serde_json::{json, Value};
use support::*;

fn summary(id: &str, status: &str) -> Value {
    json!({
        "configurationItemSummary": {
            "changeType": "UPDATE", "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": "2026-11-20T09:14:27.318Z", "configurationStateId": 1795166067318u64,
            "awsAccountId": ACCOUNT, "configurationItemStatus": status, "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": id, "resourceName": "big", "awsRegion": "us-east-1", "availabilityZone": "Not Applicable",
        },
        "s3DeliverySummary": {"s3BucketLocation": "bucket/key.json.gz"},
        "notificationCreationTime": "2026-11-20T09:15:02.112Z",
        "messageType": "OversizedConfigurationItemChangeNotification",
        "recordVersion": "1.0",
    })
}

#[tokio::test]
async fn change_events_for_each_kind_of_group() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let open = account.group("default-egress", None).await;
    let restricted = account
        .group(
            "restricted",
            Some(vec![
                ipv4("tcp", Some((443, 443)), "0.0.0.0/0"),
                ipv4("-1", None, "10.0.0.0/8"),
            ]),
        )
        .await;
    let exempt = account.group("exempt", None).await;
    account
        .tag(&exempt, "sg-egress-exempt", "2099-12-31 CHG-1 egress proxy")
        .await;
    let internet_list = account.prefix_list(&["0.0.0.0/0"]).await;
    let private_list = account.prefix_list(&["10.0.0.0/8"]).await;
    let via_list = account
        .group(
            "via-prefix-list",
            Some(vec![prefix_list("-1", &internet_list)]),
        )
        .await;
    let via_private_list = account
        .group(
            "via-private-list",
            Some(vec![prefix_list("-1", &private_list)]),
        )
        .await;
    let ipv6_only = account
        .group("ipv6-only", Some(vec![ipv6("-1", "::/0")]))
        .await;

    let function = emulator.function();
    let token = emulator.result_token();
    let expected = [
        (&open, "NON_COMPLIANT", Some("all traffic to 0.0.0.0/0".to_string())),
        (&restricted, "COMPLIANT", None),
        (
            &exempt,
            "COMPLIANT",
            Some("Exempt: tag sg-egress-exempt=\"2099-12-31 CHG-1 egress proxy\" holds through 2099-12-31 (all traffic to 0.0.0.0/0)".to_string()),
        ),
        (&via_list, "NON_COMPLIANT", Some(format!("all traffic to 0.0.0.0/0 via {internet_list}"))),
        (&via_private_list, "COMPLIANT", None),
        (&ipv6_only, "NON_COMPLIANT", Some("all traffic to ::/0".to_string())),
    ];
    for (i, (id, compliance, annotation)) in expected.iter().enumerate() {
        let item = emulator.config_item(id);
        // The annotation of each kind alone; exposure: tests/exposure_e2e.rs.
        let (outcome, body) = emulator.invoke(&lambda_event(
            change_notification(item.clone()),
            json!({"ExposureMode": "off"}),
            &token,
        ));
        assert_eq!(outcome, "response", "{id}: {body}");
        let calls = emulator.put_calls();
        assert_eq!(
            calls.len(),
            i + 1,
            "exactly one PutEvaluations call per change event"
        );
        let sent = calls.last().unwrap()["evaluations"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(
            sent.len(),
            1,
            "exactly one evaluation for the triggering resource"
        );
        let e = &sent[0];
        assert_eq!(e["ComplianceResourceId"], json!(id));
        assert_eq!(e["ComplianceResourceType"], "AWS::EC2::SecurityGroup");
        assert_eq!(e["ComplianceType"], *compliance, "{id}");
        assert_eq!(
            e.get("Annotation")
                .and_then(Value::as_str)
                .map(str::to_string),
            *annotation,
            "{id}"
        );
        let captured = chrono::DateTime::parse_from_rfc3339(
            item["configurationItemCaptureTime"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(
            e["OrderingTimestamp"].as_f64().unwrap(),
            captured.timestamp_millis() as f64 / 1000.0,
            "capture time"
        );
    }
    assert_eq!(emulator.stored().len(), expected.len());
    // Prefix lists are read only for the groups that name them, once each.
    assert_eq!(emulator.calls("GetManagedPrefixListEntries"), 2);
    drop(function);
}

#[tokio::test]
async fn deleted_items_and_other_message_types() {
    let emulator = Emulator::start();
    let _function = emulator.function();
    let token = emulator.result_token();
    let deleted = json!({
        "configurationItemCaptureTime": "2026-11-21T10:00:00.000Z", "configurationItemStatus": "ResourceDeleted",
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-0123456789abcdef0", "configuration": null,
        "relationships": [], "tags": {},
    });
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(deleted),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "response", "{body}");
    let stored = emulator.stored();
    assert_eq!(
        stored["sg-0123456789abcdef0"]["ComplianceType"],
        "NOT_APPLICABLE"
    );

    let mut left = lambda_event(change_notification(emulator_free_item()), json!({}), &token);
    left["eventLeftScope"] = json!(true);
    let (outcome, _) = emulator.invoke(&left);
    assert_eq!(outcome, "response");
    assert_eq!(
        emulator.stored()["sg-0aaaaaaaaaaaaaaa1"]["ComplianceType"],
        "NOT_APPLICABLE"
    );

    let mut proactive = lambda_event(change_notification(emulator_free_item()), json!({}), &token);
    proactive["evaluationMode"] = json!("PROACTIVE");
    let before = emulator.put_calls().len();
    let (outcome, body) = emulator.invoke(&proactive);
    assert_eq!(outcome, "response");
    assert_eq!(body["evaluations"], 0);
    assert_eq!(
        emulator.put_calls().len(),
        before,
        "nothing sent outside DETECTIVE mode"
    );
}

fn emulator_free_item() -> Value {
    json!({
        "configurationItemCaptureTime": "2026-11-21T10:00:00.000Z", "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-0aaaaaaaaaaaaaaa1", "relationships": [], "tags": {},
        "configuration": {"groupId": "sg-0aaaaaaaaaaaaaaa1", "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"]}]},
    })
}

#[tokio::test]
async fn oversized_item_is_fetched_from_config() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    // Many narrow rules make the item large; together they open all TCP ports.
    // (EC2 allows 60 rules a group.)
    let rules: Vec<_> = (0..50)
        .map(|i| {
            ipv4(
                "tcp",
                Some((i * 1311, (i * 1311 + 1310).min(65535))),
                "0.0.0.0/0",
            )
        })
        .collect();
    let big = account.group("big", Some(rules)).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) = emulator.invoke(&lambda_event(
        summary(&big, "OK"),
        json!({"ExposureMode": "off"}),
        &token,
    ));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(emulator.calls("GetResourceConfigHistory"), 1);
    let requests = emulator.get("config-requests")["requests"].clone();
    let history = requests
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "GetResourceConfigHistory")
        .unwrap();
    assert_eq!(history[1]["limit"], 1, "the latest item only: {history}");
    assert_eq!(history[1]["resourceId"], json!(big));
    let stored = emulator.stored();
    assert_eq!(stored[&big]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(
        stored[&big]["Annotation"],
        "all TCP ports to 0.0.0.0/0 (several rules together)"
    );

    // A deleted summary needs no fetch.
    let (outcome, _) = emulator.invoke(&lambda_event(
        summary("sg-0bbbbbbbbbbbbbbb2", "ResourceDeleted"),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "response");
    assert_eq!(emulator.calls("GetResourceConfigHistory"), 1);
    assert_eq!(
        emulator.stored()["sg-0bbbbbbbbbbbbbbb2"]["ComplianceType"],
        "NOT_APPLICABLE"
    );
}

#[tokio::test]
async fn bad_parameters_fail_before_any_call() {
    let emulator = Emulator::start();
    let _function = emulator.function();
    let token = emulator.result_token();
    for (parameters, message) in [
        (
            json!({"checkIpv6": "true"}),
            "rule parameter checkIpv6: unknown parameter",
        ),
        (
            json!({"CheckIpv6": "sometimes"}),
            "rule parameter CheckIpv6: expected true or false",
        ),
        (
            json!({"ExemptGroupIds": "web-servers"}),
            "rule parameter ExemptGroupIds",
        ),
    ] {
        let (outcome, body) =
            emulator.invoke(&lambda_event(scheduled_notification(), parameters, &token));
        assert_eq!(outcome, "error");
        assert_eq!(body["errorType"], "InvalidRuleParameters");
        assert!(
            body["errorMessage"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    let (outcome, body) = emulator.invoke(&json!({"invokingEvent": "{\"messageType\": ", "ruleParameters": "{}", "resultToken": token}));
    assert_eq!(outcome, "error");
    assert_eq!(body["errorType"], "InvalidEvent");
    assert_eq!(emulator.calls("PutEvaluations"), 0);
    assert_eq!(emulator.calls("DescribeSecurityGroups"), 0);
}

#[tokio::test]
async fn testmode_sends_with_test_mode_and_stores_nothing() {
    let emulator = Emulator::start();
    let _function = emulator.function();
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(emulator_free_item()),
        json!({}),
        "TESTMODE",
    ));
    assert_eq!(outcome, "response", "{body}");
    let calls = emulator.put_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["testMode"], true);
    assert_eq!(
        calls[0]["evaluations"][0]["ComplianceType"],
        "NON_COMPLIANT"
    );
    assert!(emulator.stored().is_empty());
}

#[tokio::test]
async fn a_sweep_of_over_a_thousand_groups_then_stale_cleanup() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let mut created = Vec::new();
    for i in 0..1000 {
        let egress = match i % 4 {
            0 => None,
            1 => Some(vec![ipv4("tcp", Some((443, 443)), "0.0.0.0/0")]),
            2 => Some(vec![ipv6("-1", "::/0")]),
            _ => Some(vec![]),
        };
        created.push(account.group(&format!("g{i}"), egress).await);
    }
    // Pages of 300, so the sweep must follow NextToken.
    emulator.control("page-size", json!({"DescribeSecurityGroups": 300}));
    let all = account.all_group_ids().await;
    assert!(all.len() > 1000);

    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["evaluations"], json!(all.len()));

    let calls = emulator.put_calls();
    let sent: Vec<&Value> = calls
        .iter()
        .flat_map(|c| c["evaluations"].as_array().unwrap())
        .collect();
    assert_eq!(sent.len(), all.len(), "none missing");
    let unique: std::collections::BTreeSet<&str> = sent
        .iter()
        .map(|e| e["ComplianceResourceId"].as_str().unwrap())
        .collect();
    assert_eq!(unique.len(), all.len(), "none duplicated");
    assert!(calls
        .iter()
        .all(|c| c["evaluations"].as_array().unwrap().len() <= 100));
    assert_eq!(calls.len(), all.len().div_ceil(100), "full batches of 100");
    assert_eq!(
        emulator.calls("DescribeSecurityGroups"),
        1 + all.len().div_ceil(300) as u64
    );

    let stored = emulator.stored();
    for (i, id) in created.iter().enumerate() {
        let expected = ["NON_COMPLIANT", "COMPLIANT", "NON_COMPLIANT", "COMPLIANT"][i % 4];
        assert_eq!(stored[id]["ComplianceType"], expected, "{id}");
        assert_eq!(
            stored[id]["OrderingTimestamp"].as_f64().unwrap(),
            1795176000.0,
            "the notification's time"
        );
    }

    // Delete some groups; the next sweep marks them NOT_APPLICABLE.
    for id in &created[..5] {
        account.delete(id).await;
    }
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    let stored = emulator.stored();
    for id in &created[..5] {
        assert_eq!(stored[id]["ComplianceType"], "NOT_APPLICABLE", "{id}");
        assert_eq!(
            stored[id]["Annotation"],
            "The security group no longer exists (found missing by the scheduled sweep)"
        );
    }
    assert_eq!(stored[&created[5]]["ComplianceType"], "COMPLIANT");
    assert!(
        emulator.calls("GetComplianceDetailsByConfigRule") >= 2 + (all.len() as u64) / 100,
        "all pages read"
    );
}

#[tokio::test]
async fn failed_evaluations_are_resent() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    for i in 0..30 {
        account.group(&format!("g{i}"), None).await;
    }
    let all = account.all_group_ids().await;
    let _function = emulator.function();
    let token = emulator.result_token();
    emulator.faults(json!([{"operation": "PutEvaluations", "kind": "failed_evaluations", "rate": 1.0, "times": 2}]));
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(
        emulator.stored().len(),
        all.len(),
        "every evaluation arrived in the end"
    );
    let calls = emulator.put_calls();
    assert_eq!(calls.len(), 3, "one call, then two resends of what failed");
    assert!(calls[0]["failed"].as_u64().unwrap() > 0);

    // A PutEvaluations that keeps failing fails the invocation, naming what
    // failed, after the first call and four resends.
    emulator.faults(
        json!([{"operation": "PutEvaluations", "kind": "failed_evaluations", "rate": 1.0}]),
    );
    let before = emulator.calls("PutEvaluations");
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(emulator_free_item()),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "error");
    assert_eq!(emulator.calls("PutEvaluations") - before, 1 + 4);
    assert_eq!(body["errorType"], "AwsCallFailed");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("sg-0aaaaaaaaaaaaaaa1"),
        "{body}"
    );
}

#[tokio::test]
async fn unused_groups_are_not_applicable_in_a_sweep() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let used = account.group("used", None).await;
    let unused = account.group("unused", None).await;
    account.attach_interface(&used).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) = emulator.invoke(&lambda_event(
        scheduled_notification(),
        json!({"IgnoreUnusedGroups": "true"}),
        &token,
    ));
    assert_eq!(outcome, "response", "{body}");
    let stored = emulator.stored();
    assert_eq!(stored[&used]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(stored[&unused]["ComplianceType"], "NOT_APPLICABLE");
    assert_eq!(
        stored[&unused]["Annotation"],
        "Not attached to any network interface (IgnoreUnusedGroups is true)"
    );
    assert_eq!(
        emulator.calls("DescribeNetworkInterfaces"),
        1,
        "one pass, not a call per group"
    );

    // A change event: the item, recorded without interface relationships,
    // cannot tell; the function asks EC2 about that one group.
    let before = emulator.calls("DescribeNetworkInterfaces");
    for (group, verdict) in [(&used, "NON_COMPLIANT"), (&unused, "NOT_APPLICABLE")] {
        let item = emulator.config_item(group);
        let (outcome, body) = emulator.invoke(&lambda_event(
            change_notification(item),
            json!({"IgnoreUnusedGroups": true}),
            &token,
        ));
        assert_eq!(outcome, "response", "{body}");
        let sent = emulator.put_calls().last().unwrap()["evaluations"][0].clone();
        assert_eq!(sent["ComplianceResourceId"], json!(group));
        assert_eq!(sent["ComplianceType"], verdict, "{group}");
    }
    assert_eq!(
        emulator.calls("DescribeNetworkInterfaces") - before,
        2,
        "one call per change event whose item cannot prove use"
    );
}

#[tokio::test]
async fn execution_role_is_assumed_in_the_member_account() {
    let emulator = Emulator::start();
    let _function = emulator.function();
    let token = emulator.result_token();
    let role = format!("arn:aws:iam::{MEMBER}:role/{MEMBER_ROLE}");
    emulator.allow_roles(std::slice::from_ref(&role));
    let member_token = emulator.result_token_in(MEMBER);
    let event = lambda_event_in(
        MEMBER,
        change_notification(emulator_free_item()),
        json!({"ExecutionRoleName": MEMBER_ROLE}),
        &member_token,
    );
    let (outcome, body) = emulator.invoke(&event);
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(emulator.assumed_roles(), vec![role]);
    assert_eq!(
        emulator.stored_in(MEMBER)["sg-0aaaaaaaaaaaaaaa1"]["ComplianceType"],
        "NON_COMPLIANT"
    );
    assert!(
        emulator.stored().is_empty(),
        "nothing in the function's own account"
    );
    drop(token);
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_by_the_sdk() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let open = account.group("open", None).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    emulator.faults(json!([
        {"operation": "DescribeSecurityGroups", "kind": "throttle", "rate": 1.0, "times": 1},
        {"operation": "PutEvaluations", "kind": "error", "rate": 1.0, "times": 1},
        {"operation": "GetComplianceDetailsByConfigRule", "kind": "throttle", "rate": 1.0, "times": 1},
    ]));
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(emulator.stored()[&open]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(
        emulator.calls("DescribeSecurityGroups"),
        2,
        "the throttled call and its retry"
    );
}

/// EC2's PascalCase keys in Config's camelCase, so that an EC2-shaped
/// input can be wrapped as a configuration item's `configuration`.
fn camel_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let mut key = k.clone();
                    if let Some(first) = key.get(0..1) {
                        key.replace_range(0..1, &first.to_lowercase());
                    }
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

/// How one catalogue input reaches the function: as bytes when it is not
/// one JSON value, or wrapped in the Config event it could arrive in, with
/// the fragment the function's error must contain.
fn as_lambda_input(
    bytes: &[u8],
    fragment: &'static str,
    token: &str,
) -> Result<(Value, &'static str), Vec<u8>> {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Err(bytes.to_vec());
    };
    let item = |configuration: Value| json!({"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configurationItemStatus": "OK", "configuration": configuration});
    let event = if value.get("invokingEvent").is_some() {
        let mut event = value.clone();
        event["resultToken"] = json!(token);
        return Ok((event, fragment));
    } else if value.get("messageType").is_some() {
        lambda_event(value.clone(), json!({}), token)
    } else if value.get("groupId").is_some() || value.get("ipPermissionsEgress").is_some() {
        lambda_event(change_notification(item(value.clone())), json!({}), token)
    } else if value.get("GroupId").is_some() || value.get("IpPermissionsEgress").is_some() {
        lambda_event(
            change_notification(item(camel_keys(&value))),
            json!({}),
            token,
        )
    } else if value.get("resourceType").is_some() {
        lambda_event(change_notification(value.clone()), json!({}), token)
    } else if let Some(items) = value.get("configurationItems") {
        lambda_event(change_notification(items[0].clone()), json!({}), token)
    } else if let Some(rows) = value.get("Results") {
        // A query row that is not JSON, as an item's double-encoded configuration.
        lambda_event(change_notification(item(rows[0].clone())), json!({}), token)
    } else if value.is_object() {
        // An unknown shape, as the invoking event it would have to be.
        return Ok((
            lambda_event(value.clone(), json!({}), token),
            "messageType is missing",
        ));
    } else {
        return Ok((value.clone(), fragment));
    };
    Ok((event, fragment))
}

#[tokio::test]
async fn malformed_events_fail_the_invocation_and_never_crash_the_function() {
    let emulator = Emulator::start();
    let _function = emulator.function();
    let token = emulator.result_token();
    let catalogue = catalogue::bad_inputs();
    let (mut as_events, mut as_bytes) = (0, 0);
    for (name, bytes, message) in &catalogue {
        let fragment = message.rsplit(": ").next().unwrap();
        match as_lambda_input(bytes, fragment, &token) {
            Ok((event, fragment)) => {
                let (outcome, body) = emulator.invoke(&event);
                assert_eq!(outcome, "error", "{name}: {body}");
                let kind = body["errorType"].as_str().unwrap();
                assert!(
                    ["InvalidEvent", "InvalidRuleParameters"].contains(&kind),
                    "{name}: {body}"
                );
                let text = body["errorMessage"].as_str().unwrap();
                assert!(
                    text.contains(fragment),
                    "{name}: {text:?} should contain {fragment:?}"
                );
                as_events += 1;
            }
            Err(raw) => {
                // Not one JSON value: the function still reads it, and says
                // what is wrong with it (the runtime alone would refuse it
                // before the handler with a message naming no input).
                let (outcome, body) = emulator.invoke_raw(&raw);
                assert_eq!(outcome, "error", "{name}: {body}");
                assert_eq!(body["errorType"], "InvalidEvent", "{name}: {body}");
                let text = body["errorMessage"].as_str().unwrap();
                let reason = match fragment {
                    "empty input" => "the body is empty",
                    "not UTF-8" => "the body is not UTF-8",
                    _ => "the body is not valid JSON",
                };
                assert!(
                    text.starts_with("the invocation cannot be read: ") && text.contains(reason),
                    "{name}: {text:?} should say {reason:?}"
                );
                as_bytes += 1;
            }
        }
        // Still alive and well after each.
        let (outcome, body) = emulator.invoke(&lambda_event(
            change_notification(emulator_free_item()),
            json!({}),
            "TESTMODE",
        ));
        assert_eq!(outcome, "response", "after {name}: {body}");
    }
    eprintln!(
        "{} catalogue inputs reached the function: {as_events} as events, {as_bytes} as bytes",
        catalogue.len()
    );
    assert_eq!(as_events + as_bytes, 26);
    assert!(
        as_bytes > 0,
        "the inputs that are not one JSON value are among them"
    );
    assert_eq!(catalogue.len(), 26);
    assert!(
        emulator.put_calls().iter().all(|c| c["testMode"] == true),
        "nothing sent for a malformed event"
    );
}

#[tokio::test]
async fn logs_hold_neither_credentials_nor_events_nor_tags_even_at_trace() {
    let emulator = Emulator::start();
    // Distinct values that could not appear in a log by chance.
    let unique = |prefix: &str| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{prefix}{nanos:x}{}", std::process::id())
    };
    let key = unique("AKIAKEY").to_uppercase();
    let secret = unique("secret-");
    let session = unique("session-token-");
    let function = emulator.function_with(&[
        ("AWS_ACCESS_KEY_ID", &key),
        ("AWS_SECRET_ACCESS_KEY", &secret),
        ("AWS_SESSION_TOKEN", &session),
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ("RUST_LOG", "trace"),
    ]);
    let role = format!("arn:aws:iam::{MEMBER}:role/{MEMBER_ROLE}");
    emulator.allow_roles(std::slice::from_ref(&role));
    let token = emulator.result_token();
    let mut item = emulator_free_item();
    item["configuration"]["description"] = json!("MARKER-IN-THE-EVENT");
    item["tags"] = json!({"owner": "MARKER-IN-A-TAG", "sg-egress-exempt": "2020-01-01 MARKER-IN-THE-EXEMPTION"});
    let (outcome, _) = emulator.invoke(&lambda_event(
        change_notification(item.clone()),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "response");
    // The assumed-role path: credentials from STS.
    let member_token = emulator.result_token_in(MEMBER);
    let (outcome, body) = emulator.invoke(&lambda_event_in(
        MEMBER,
        change_notification(item),
        json!({"ExecutionRoleName": MEMBER_ROLE}),
        &member_token,
    ));
    assert_eq!(outcome, "response", "{body}");
    let (outcome, _) = emulator.invoke(&lambda_event(
        scheduled_notification(),
        json!({"Bad": 1}),
        &token,
    ));
    assert_eq!(outcome, "error");
    let logs = function.logs();
    if let Some(path) = std::env::var_os("SG_EGRESS_DUMP_LOGS") {
        std::fs::write(path, &logs).unwrap();
    }
    assert!(logs.contains("sent evaluations"), "{logs}");
    assert!(
        logs.contains("requestId="),
        "lines carry the request id: {logs}"
    );
    assert!(
        logs.contains("sg-0aaaaaaaaaaaaaaa1"),
        "findings are logged by id: {logs}"
    );
    assert!(
        logs.contains("DEBUG"),
        "the function's own lines below INFO are logged: {logs}"
    );
    for secret in [
        key.as_str(),
        secret.as_str(),
        session.as_str(),
        "MARKER-IN-THE-EVENT",
        "MARKER-IN-A-TAG",
        "MARKER-IN-THE-EXEMPTION",
        token.as_str(),
        member_token.as_str(),
        "invokingEvent",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
    // STS's temporary keys start with ASIA; none may appear.
    let leaked = logs.match_indices("ASIA").any(|(at, _)| {
        logs[at + 4..]
            .chars()
            .take(16)
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    });
    assert!(!leaked, "an assumed-role key appears in the logs");
}

#[tokio::test]
async fn a_prefix_list_that_cannot_be_read_fails_a_change_event() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let list = account.prefix_list(&["0.0.0.0/0"]).await;
    let group = account
        .group("via-list", Some(vec![prefix_list("-1", &list)]))
        .await;
    emulator.control(
        "deny",
        json!({"denials": [{"action": "GetManagedPrefixListEntries", "id": list}]}),
    );
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(emulator.config_item(&group)),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "error", "{body}");
    assert_eq!(body["errorType"], "AwsCallFailed");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(&format!("prefix list {list} cannot be read")),
        "{message}"
    );
    assert_eq!(emulator.calls("PutEvaluations"), 0, "no guess is sent");
}

#[tokio::test]
async fn four_batches_at_a_time() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    for i in 0..900 {
        account.group(&format!("g{i}"), None).await;
    }
    let _function = emulator.function();
    let token = emulator.result_token();
    // Each PutEvaluations takes 0.3 s, so batches overlap when they can.
    emulator.faults(json!([{"operation": "PutEvaluations", "kind": "slow_inside", "rate": 1.0}]));
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(emulator.put_calls().len(), 10);
    assert_eq!(
        emulator.get("max-in-flight")["PutEvaluations"],
        4,
        "four at a time, never more"
    );
}
