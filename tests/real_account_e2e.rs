//! What AWS does that an emulator can assume away (SPEC §7 and §8), each
//! against the real function binary: Config items without interface
//! relationships, groups shared from other accounts, unreadable groups and
//! prefix lists, organization rules in member and management accounts,
//! annotations counted in UTF-16, empty history pages, and remediation with
//! the rule's current parameters on an eventually consistent EC2.
#![cfg(feature = "aws")]

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::*;

/// The evaluations of the last PutEvaluations call.
fn last_sent(emulator: &Emulator) -> Vec<Value> {
    emulator.put_calls().last().unwrap()["evaluations"]
        .as_array()
        .unwrap()
        .clone()
}

/// Every evaluation sent by the calls after the first `from`, by resource id
/// (each id must appear once).
fn sent_since(emulator: &Emulator, from: usize) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for call in &emulator.put_calls()[from..] {
        for e in call["evaluations"].as_array().unwrap() {
            let id = e["ComplianceResourceId"].as_str().unwrap().to_string();
            assert!(
                out.insert(id.clone(), e.clone()).is_none(),
                "{id} sent twice"
            );
        }
    }
    out
}

#[tokio::test]
async fn an_item_without_interface_relationships_is_never_called_unused_without_asking_ec2() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let used = account.group("used", None).await;
    let unused = account.group("unused", None).await;
    account.attach_interface(&used).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    // Calls for use only (exposure, which reads interfaces of open groups
    // too, sharing the listing: tests/exposure_e2e.rs).
    let parameters = json!({"IgnoreUnusedGroups": true, "ExposureMode": "off"});

    // Config records neither interfaces nor instances: the items list only the VPC.
    let item = emulator.config_item(&used);
    let related: Vec<&str> = item["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(related, ["AWS::EC2::VPC"]);
    for (group, verdict) in [(&used, "NON_COMPLIANT"), (&unused, "NOT_APPLICABLE")] {
        let before = emulator.calls("DescribeNetworkInterfaces");
        let (outcome, body) = emulator.invoke(&lambda_event(
            change_notification(emulator.config_item(group)),
            parameters.clone(),
            &token,
        ));
        assert_eq!(outcome, "response", "{body}");
        assert_eq!(
            last_sent(&emulator)[0]["ComplianceType"],
            verdict,
            "{group}"
        );
        assert_eq!(emulator.calls("DescribeNetworkInterfaces") - before, 1);
    }

    // An oversized item is fetched, then EC2 is asked too.
    let summary = json!({
        "configurationItemSummary": {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": used,
            "configurationItemStatus": "OK", "configurationItemCaptureTime": "2026-11-26T10:00:00.000Z"},
        "messageType": "OversizedConfigurationItemChangeNotification", "notificationCreationTime": "2026-11-26T10:00:01.000Z",
    });
    let (outcome, body) = emulator.invoke(&lambda_event(summary, parameters.clone(), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(last_sent(&emulator)[0]["ComplianceType"], "NON_COMPLIANT");

    // When Config records instances, an instance relationship proves use: no call.
    emulator.record_related_types(&["AWS::EC2::Instance"]);
    let mut item = emulator.config_item(&used);
    item["relationships"] = json!([
        {"resourceType": "AWS::EC2::Instance", "resourceId": "i-0123456789abcdef0", "name": "Is associated with Instance"}
    ]);
    let before = emulator.calls("DescribeNetworkInterfaces");
    let (outcome, _) =
        emulator.invoke(&lambda_event(change_notification(item), parameters, &token));
    assert_eq!(outcome, "response");
    assert_eq!(last_sent(&emulator)[0]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(emulator.calls("DescribeNetworkInterfaces"), before);
}

#[tokio::test]
async fn a_sweep_judges_owned_groups_only_and_one_bad_group_spoils_nothing_else() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let member = Account::new_in(&emulator, MEMBER).await;
    let open = account.group("open", None).await;
    let closed = account.group("closed", Some(vec![])).await;
    let corrupt = account.group("corrupt", None).await;
    let list = account.prefix_list(&["0.0.0.0/0"]).await;
    let unreadable_list = account.prefix_list(&["10.0.0.0/8"]).await;
    let via_list = account
        .group("via-list", Some(vec![prefix_list("-1", &list)]))
        .await;
    let via_unreadable = account
        .group(
            "via-unreadable",
            Some(vec![prefix_list("-1", &unreadable_list)]),
        )
        .await;
    let shared = member.group("shared-in", None).await;
    // Shared in too, and judged here before (by a version that judged every
    // group EC2 listed): that result must not stay, it would never change.
    let shared_judged = member.group("shared-in-judged", None).await;
    for id in [&shared, &shared_judged] {
        emulator.control(
            "share-group",
            json!({"account": MEMBER, "groupId": id, "with": ACCOUNT}),
        );
    }
    emulator.control("corrupt-group", json!({"groupId": corrupt}));
    emulator.control(
        "deny",
        json!({"denials": [{"action": "GetManagedPrefixListEntries", "id": unreadable_list}]}),
    );
    // Earlier results: a group that exists, one deleted since, and the
    // groups that cannot be read (their results must stay).
    let gone = "sg-0ddddddddddddddd4";
    let earlier: Vec<Value> = [
        open.as_str(),
        gone,
        corrupt.as_str(),
        via_unreadable.as_str(),
        shared_judged.as_str(),
    ]
    .iter()
        .map(|id| json!({"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": id,
                          "ComplianceType": "NON_COMPLIANT", "OrderingTimestamp": "2026-11-01T00:00:00.000Z"}))
        .collect();
    emulator.control(
        "seed-evaluations",
        json!({"rule": RULE, "evaluations": earlier}),
    );

    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "error", "{body}");
    assert_eq!(body["errorType"], "GroupsNotEvaluated", "{body}");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(&corrupt) && message.contains(&via_unreadable),
        "{message}"
    );
    assert!(message.contains(&unreadable_list), "{message}");

    let sent = sent_since(&emulator, 0);
    assert_eq!(sent[&open]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(sent[&closed]["ComplianceType"], "COMPLIANT");
    assert_eq!(sent[&via_list]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(sent[gone]["ComplianceType"], "NOT_APPLICABLE");
    for id in [&corrupt, &via_unreadable, &shared] {
        assert!(!sent.contains_key(id), "{id} must get no evaluation");
    }
    let stored = emulator.stored();
    assert_eq!(
        stored[&corrupt]["ComplianceType"], "NON_COMPLIANT",
        "its earlier result stays"
    );
    assert_eq!(stored[&via_unreadable]["ComplianceType"], "NON_COMPLIANT");

    // Order: earlier results first, groups next; the clean-up is the last call.
    let log = emulator.get("call-log")["operations"]
        .as_array()
        .unwrap()
        .clone();
    let position = |op: &str| log.iter().position(|o| o == op).unwrap();
    assert!(position("GetComplianceDetailsByConfigRule") < position("DescribeSecurityGroups"));
    let calls = emulator.put_calls();
    let cleanup = calls.last().unwrap()["evaluations"].as_array().unwrap();
    assert_eq!(cleanup.len(), 2, "{cleanup:?}");
    let marked = |id: &str| {
        cleanup
            .iter()
            .find(|e| e["ComplianceResourceId"] == id)
            .unwrap_or_else(|| panic!("{id} not in {cleanup:?}"))
    };
    assert_eq!(marked(gone)["ComplianceType"], "NOT_APPLICABLE");
    let shared_mark = marked(&shared_judged);
    assert_eq!(shared_mark["ComplianceType"], "NOT_APPLICABLE");
    assert!(
        shared_mark["Annotation"]
            .as_str()
            .unwrap()
            .contains(&format!("shared in from account {MEMBER}")),
        "{cleanup:?}"
    );
}

#[tokio::test]
async fn a_failed_cleanup_comes_after_every_evaluation_and_fails_the_invocation() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let open = account.group("open", None).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    emulator.faults(
        json!([{"operation": "GetComplianceDetailsByConfigRule", "kind": "error", "rate": 1.0}]),
    );
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "error", "{body}");
    assert_eq!(body["errorType"], "AwsCallFailed");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("clean-up of deleted groups skipped"),
        "{body}"
    );
    assert_eq!(
        emulator.stored()[&open]["ComplianceType"],
        "NON_COMPLIANT",
        "sent before failing"
    );
}

#[tokio::test]
async fn an_empty_sweep_still_tells_config_the_rule_ran() {
    let emulator = Emulator::start();
    emulator.control("clear-groups", json!({}));
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    let calls = emulator.put_calls();
    assert_eq!(calls.len(), 1, "one PutEvaluations call");
    assert_eq!(calls[0]["evaluations"], json!([]));
}

#[tokio::test]
async fn the_deadline_is_checked_while_reading_earlier_results() {
    let emulator = Emulator::start();
    let earlier: Vec<Value> = (0..400)
        .map(|i| json!({"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": format!("sg-{i:017x}"),
                        "ComplianceType": "COMPLIANT", "OrderingTimestamp": "2026-11-01T00:00:00.000Z"}))
        .collect();
    emulator.control(
        "seed-evaluations",
        json!({"rule": RULE, "evaluations": earlier}),
    );
    let _function = emulator.function();
    let token = emulator.result_token();
    emulator.faults(
        json!([{"operation": "GetComplianceDetailsByConfigRule", "kind": "slow", "delay": 2.0}]),
    );
    let event = lambda_event(scheduled_notification(), json!({}), &token);
    let answer = emulator.control(
        "invoke",
        json!({"event": event, "deadlineSeconds": 9, "timeoutSeconds": 60}),
    );
    assert_eq!(answer["outcome"], "error", "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["errorType"], "DeadlineApproaching", "{body}");
    assert!(
        emulator.calls("GetComplianceDetailsByConfigRule") < 4,
        "stopped reading the 4 pages when the deadline neared"
    );
    assert_eq!(emulator.calls("PutEvaluations"), 0, "nothing half-sent");
}

/// Every read of a sweep checks the deadline before each call: once one slow
/// call has used up the time, the call that would come next is never made,
/// and nothing is half-sent.
#[tokio::test]
async fn no_call_of_a_sweep_starts_after_the_deadline() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    // One open group: its VPC's network is read for the exposure.
    account.group("open", None).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    // In the order a sweep makes them (default parameters: the interfaces
    // are read last, for the exposure): each slow one, what the failure must
    // name (the check of the slow call's own loop), and the call after it.
    let order = [
        // Earlier results are for the clean-up, which is best effort: the
        // groups' loop is the one that stops.
        (
            "GetComplianceDetailsByConfigRule",
            "read 0 security groups, not all",
            "DescribeSecurityGroups",
        ),
        (
            "DescribeSecurityGroups",
            "security groups, not all",
            "DescribeRouteTables",
        ),
        (
            "DescribeRouteTables",
            "reading route tables",
            "DescribeNatGateways",
        ),
        (
            "DescribeNatGateways",
            "reading NAT gateways",
            "DescribeInternetGateways",
        ),
        (
            "DescribeInternetGateways",
            "reading internet gateways",
            "DescribeEgressOnlyInternetGateways",
        ),
        (
            "DescribeEgressOnlyInternetGateways",
            "reading egress-only internet gateways",
            "DescribeNetworkInterfaces",
        ),
        (
            "DescribeNetworkInterfaces",
            "reading network interfaces",
            "PutEvaluations",
        ),
    ];
    for (slow, named, next) in order {
        let before = (
            emulator.calls(slow),
            emulator.calls(next),
            emulator.calls("PutEvaluations"),
        );
        emulator.faults(json!([{"operation": slow, "kind": "slow", "delay": 3.0}]));
        let event = lambda_event(scheduled_notification(), json!({}), &token);
        // 7 s, 5 s of which are the margin: the slow call leaves too little.
        let answer = emulator.control(
            "invoke",
            json!({"event": event, "deadlineSeconds": 7, "timeoutSeconds": 60}),
        );
        emulator.faults(json!([]));
        assert_eq!(answer["outcome"], "error", "{slow}: {answer}");
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["errorType"], "DeadlineApproaching", "{slow}: {body}");
        assert!(
            body["errorMessage"].as_str().unwrap().contains(named),
            "{slow}: the loop that made it checks the deadline again: {body}"
        );
        assert!(emulator.calls(slow) > before.0, "{slow} was called");
        assert_eq!(
            emulator.calls(next),
            before.1,
            "{next} started after the deadline, once {slow} had used the time"
        );
        assert_eq!(
            emulator.calls("PutEvaluations"),
            before.2,
            "{slow}: nothing half-sent"
        );
    }
}

#[tokio::test]
async fn organization_rules_use_the_member_role_in_members_and_own_credentials_at_home() {
    let emulator = Emulator::start();
    let home = Account::new(&emulator).await;
    let member = Account::new_in(&emulator, MEMBER).await;
    let home_group = home.group("home", None).await;
    let member_groups = [
        member.group("m1", None).await,
        member.group("m2", Some(vec![])).await,
        member.group("m3", None).await,
    ];
    let role = format!("arn:aws:iam::{MEMBER}:role/{MEMBER_ROLE}");
    emulator.allow_roles(std::slice::from_ref(&role));
    let _function = emulator.function_with(&[("SG_EGRESS_EXECUTION_ROLE_NAME", MEMBER_ROLE)]);
    let parameters = json!({"ExecutionRoleName": MEMBER_ROLE});

    // Member account: the role is assumed once for several events, and the
    // evaluations land in the member's Config.
    let member_token = emulator.result_token_in(MEMBER);
    for group in &member_groups {
        let item = emulator.config_item_in(MEMBER, group);
        let (outcome, body) = emulator.invoke(&lambda_event_in(
            MEMBER,
            change_notification(item),
            parameters.clone(),
            &member_token,
        ));
        assert_eq!(outcome, "response", "{body}");
    }
    let (outcome, body) = emulator.invoke(&lambda_event_in(
        MEMBER,
        scheduled_notification(),
        parameters.clone(),
        &member_token,
    ));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(
        emulator.assumed_roles(),
        vec![role.clone()],
        "assumed once, this role"
    );
    let stored = emulator.stored_in(MEMBER);
    assert_eq!(stored[&member_groups[0]]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(stored[&member_groups[1]]["ComplianceType"], "COMPLIANT");
    assert!(
        !stored.contains_key(&home_group),
        "the member sweep saw only the member's groups"
    );
    assert!(emulator.calls_in("DescribeSecurityGroups", MEMBER) >= 1);

    // The management account: no member role there; the function's own credentials.
    let home_token = emulator.result_token_in(ACCOUNT);
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(emulator.config_item(&home_group)),
        parameters.clone(),
        &home_token,
    ));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(emulator.assumed_roles().len(), 1, "no AssumeRole at home");
    assert_eq!(
        emulator.stored_in(ACCOUNT)[&home_group]["ComplianceType"],
        "NON_COMPLIANT"
    );

    // Another account without ExecutionRoleName fails at once, with no call.
    let calls_before = emulator.get("call-log")["operations"]
        .as_array()
        .unwrap()
        .len();
    let (outcome, body) = emulator.invoke(&lambda_event_in(
        MEMBER,
        scheduled_notification(),
        json!({}),
        &member_token,
    ));
    assert_eq!(outcome, "error");
    assert_eq!(body["errorType"], "InvalidRuleParameters");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("organization deployments need the rule parameter ExecutionRoleName"),
        "{body}"
    );
    // An ExecutionRoleName other than the deployed one is refused too.
    let (outcome, body) = emulator.invoke(&lambda_event_in(
        MEMBER,
        scheduled_notification(),
        json!({"ExecutionRoleName": "OrganizationAccountAccessRole"}),
        &member_token,
    ));
    assert_eq!(outcome, "error");
    assert_eq!(body["errorType"], "InvalidRuleParameters");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not the role this function was deployed with"),
        "{body}"
    );
    let calls_after = emulator.get("call-log")["operations"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(calls_after, calls_before, "no AWS call for a refused event");
}

#[tokio::test]
async fn an_annotation_with_emoji_fits_256_utf16_units() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account.group("expired", None).await;
    // An expired exemption: the annotation quotes the tag's value.
    account
        .tag(
            &group,
            "sg-egress-exempt",
            &format!("2020-01-01 {}", "🔥".repeat(120)),
        )
        .await;
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(emulator.config_item(&group)),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "response", "{body}");
    let annotation = emulator.stored()[&group]["Annotation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        annotation.encode_utf16().count() <= 256,
        "{}",
        annotation.encode_utf16().count()
    );
    assert!(annotation.ends_with('…'));
    assert!(annotation
        .starts_with("Exemption held through 2020-01-01, now expired: all traffic to 0.0.0.0/0"));
}

#[tokio::test]
async fn an_oversized_item_is_found_past_an_empty_first_page() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account.group("big", None).await;
    // Config recorded the group closed, then open: the newest item counts.
    account
        .ec2
        .revoke_security_group_egress()
        .group_id(&group)
        .ip_permissions(ipv4("-1", None, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    emulator.config_item(&group);
    account
        .ec2
        .authorize_security_group_egress()
        .group_id(&group)
        .ip_permissions(ipv4("-1", None, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    emulator.config_item(&group);
    emulator.control("empty-first-page", json!({"groupId": group}));
    let _function = emulator.function();
    let token = emulator.result_token();
    let summary = json!({
        "configurationItemSummary": {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": group,
            "configurationItemStatus": "OK", "configurationItemCaptureTime": "2026-11-26T10:00:00.000Z"},
        "messageType": "OversizedConfigurationItemChangeNotification", "notificationCreationTime": "2026-11-26T10:00:01.000Z",
    });
    let (outcome, body) = emulator.invoke(&lambda_event(summary, json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(
        emulator.calls("GetResourceConfigHistory"),
        2,
        "the empty page, then the item"
    );
    assert_eq!(emulator.stored()[&group]["ComplianceType"], "NON_COMPLIANT");
}

fn remediation_function(emulator: &Emulator) -> Function {
    emulator.function_with(&[
        ("SG_EGRESS_MODE", "remediation"),
        ("SG_EGRESS_RULE_NAME", RULE),
    ])
}

#[tokio::test]
async fn remediation_judges_with_the_rule_parameters_of_now() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account.group("open", None).await;
    emulator.config_rule_in(ACCOUNT, RULE, json!({}));
    let _function = remediation_function(&emulator);
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group}));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["Outcome"], "WouldRevoke");
    assert_eq!(body["ConfigRuleName"], RULE);

    // The group is exempted after deployment: the remediation must leave it.
    emulator.config_rule_in(ACCOUNT, RULE, json!({"ExemptGroupIds": group}));
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": false}));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["Outcome"], "NothingToDo", "{body}");
    assert!(
        body["Message"].as_str().unwrap().contains("Exempt: group"),
        "{body}"
    );
    assert_eq!(
        emulator.calls("DescribeConfigRules"),
        2,
        "read at every run"
    );

    // A rule that does not exist fails, naming it.
    let (outcome, body) =
        emulator.invoke(&json!({"GroupId": group, "ConfigRuleName": "no-such-rule"}));
    assert_eq!(outcome, "error");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no-such-rule"),
        "{body}"
    );
}

#[tokio::test]
async fn a_dry_run_proves_the_role_may_revoke() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account.group("open", None).await;
    emulator.config_rule_in(ACCOUNT, RULE, json!({}));
    let _function = remediation_function(&emulator);
    emulator.control(
        "deny",
        json!({"denials": [{"action": "RevokeSecurityGroupEgress"}]}),
    );
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": true}));
    assert_eq!(outcome, "error", "{body}");
    assert_eq!(body["errorType"], "AwsCallFailed");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("UnauthorizedOperation"),
        "{body}"
    );
}

#[tokio::test]
async fn a_stale_read_after_revoking_is_read_again() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account.group("open", None).await;
    emulator.config_rule_in(ACCOUNT, RULE, json!({}));
    let _function = remediation_function(&emulator);
    // Prime the reads, then make the next two after the revocation stale.
    let (outcome, _) = emulator.invoke(&json!({"GroupId": group}));
    assert_eq!(outcome, "response");
    emulator.control("stale-reads", json!({"reads": 2}));
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": false}));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["Outcome"], "Revoked");
}
