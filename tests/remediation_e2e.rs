//! The remediation mode of the function against moto's EC2: groups before and
//! after, dry run, restricted rules untouched, refusal, KeepEgress.
#![cfg(feature = "aws")]

mod support;

use serde_json::json;
use std::collections::BTreeSet;
use support::*;

/// (id, protocol, from, to, destination) of each egress rule of the group.
async fn egress_rules(
    account: &Account,
    group: &str,
) -> BTreeSet<(String, String, i32, i32, String)> {
    let rules = account
        .ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group)
                .build(),
        )
        .send()
        .await
        .unwrap();
    rules
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(true))
        .map(|r| {
            let destination = r
                .cidr_ipv4()
                .or(r.cidr_ipv6())
                .or(r.prefix_list_id())
                .unwrap_or("")
                .to_string();
            (
                r.security_group_rule_id().unwrap().to_string(),
                r.ip_protocol().unwrap().to_string(),
                r.from_port().unwrap_or(-1),
                r.to_port().unwrap_or(-1),
                destination,
            )
        })
        .collect()
}

fn without_ids(
    rules: &BTreeSet<(String, String, i32, i32, String)>,
) -> BTreeSet<(String, i32, i32, String)> {
    rules
        .iter()
        .map(|(_, p, f, t, d)| (p.clone(), *f, *t, d.clone()))
        .collect()
}

fn remediation(emulator: &Emulator) -> Function {
    emulator.config_rule_in(ACCOUNT, RULE, json!({"CheckIpv6": "true"}));
    emulator.function_with(&[
        ("SG_EGRESS_MODE", "remediation"),
        ("SG_EGRESS_RULE_NAME", RULE),
    ])
}

#[tokio::test]
async fn dry_run_then_surgical_revocation() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account
        .group(
            "open",
            Some(vec![
                ipv4("-1", None, "0.0.0.0/0"),
                ipv4("tcp", Some((443, 443)), "0.0.0.0/0"),
                ipv4("-1", None, "10.0.0.0/8"),
                ipv6("-1", "::/0"),
            ]),
        )
        .await;
    let before = egress_rules(&account, &group).await;
    let set_up_revokes = emulator.calls("RevokeSecurityGroupEgress");
    let _function = remediation(&emulator);

    let (outcome, body) = emulator.invoke(&json!({"GroupId": group}));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["Outcome"], "WouldRevoke");
    assert_eq!(body["DryRun"], true, "DryRun defaults to true");
    assert_eq!(
        body["Finding"],
        "all traffic to 0.0.0.0/0; all traffic to ::/0"
    );
    let revoked: BTreeSet<String> = body["Revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["SecurityGroupRuleId"].as_str().unwrap().to_string())
        .collect();
    let open_ids: BTreeSet<String> = before
        .iter()
        .filter(|(_, p, _, _, d)| p == "-1" && (d == "0.0.0.0/0" || d == "::/0"))
        .map(|r| r.0.clone())
        .collect();
    assert_eq!(revoked, open_ids);
    assert_eq!(
        egress_rules(&account, &group).await,
        before,
        "a dry run changes nothing"
    );
    assert_eq!(
        emulator.calls("RevokeSecurityGroupEgress"),
        set_up_revokes + 1,
        "a dry run asks EC2 itself (DryRun=true), which proves the role may revoke"
    );

    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": "false"}));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["Outcome"], "Revoked");
    let after = egress_rules(&account, &group).await;
    let kept: BTreeSet<_> = before
        .iter()
        .filter(|r| !open_ids.contains(&r.0))
        .cloned()
        .collect();
    assert_eq!(after, kept, "restricted rules untouched, with their ids");
    // The revoked permissions come back as JSON that can restore them.
    for rule in body["Revoked"].as_array().unwrap() {
        assert_eq!(rule["IpProtocol"], "-1");
        assert!(
            rule.get("CidrIpv4").or(rule.get("CidrIpv6")).is_some(),
            "{rule}"
        );
    }
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": false}));
    assert_eq!(outcome, "response");
    assert_eq!(body["Outcome"], "NothingToDo", "{body}");
}

#[tokio::test]
async fn keep_egress_adds_narrower_rules_before_revoking() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account
        .group(
            "open",
            Some(vec![
                ipv4("-1", None, "0.0.0.0/0"),
                ipv4("tcp", Some((443, 443)), "0.0.0.0/0"),
                ipv6("-1", "::/0"),
            ]),
        )
        .await;
    let _function = remediation(&emulator);
    let (outcome, body) = emulator
        .invoke(&json!({"GroupId": group, "DryRun": false, "KeepEgress": "tcp:443,tcp:80"}));
    assert_eq!(outcome, "response", "{body}");
    let after = without_ids(&egress_rules(&account, &group).await);
    let expected: BTreeSet<(String, i32, i32, String)> = [
        ("tcp", 443, 443, "0.0.0.0/0"),
        ("tcp", 80, 80, "0.0.0.0/0"),
        ("tcp", 443, 443, "::/0"),
        ("tcp", 80, 80, "::/0"),
    ]
    .into_iter()
    .map(|(p, f, t, d)| (p.to_string(), f, t, d.to_string()))
    .collect();
    assert_eq!(after, expected);
    assert_eq!(
        body["Added"].as_array().unwrap().len(),
        3,
        "tcp 443 to 0.0.0.0/0 was there already"
    );
}

#[tokio::test]
async fn refuses_when_narrower_rules_combine_and_changes_nothing() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account
        .group(
            "two-covers",
            // Two independent covers of every TCP port: no single revocation closes it.
            Some(vec![
                ipv4("tcp", Some((0, 40000)), "0.0.0.0/0"),
                ipv4("tcp", Some((30000, 65535)), "0.0.0.0/0"),
                ipv4("tcp", Some((0, 20000)), "0.0.0.0/0"),
                ipv4("tcp", Some((20001, 65535)), "0.0.0.0/0"),
            ]),
        )
        .await;
    let before = egress_rules(&account, &group).await;
    let set_up = (
        emulator.calls("RevokeSecurityGroupEgress"),
        emulator.calls("AuthorizeSecurityGroupEgress"),
    );
    let _function = remediation(&emulator);
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": false}));
    assert_eq!(outcome, "error");
    assert_eq!(body["errorType"], "RemediationRefused");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no single revocation closes it"),
        "{body}"
    );
    assert_eq!(egress_rules(&account, &group).await, before);
    let calls = (
        emulator.calls("RevokeSecurityGroupEgress"),
        emulator.calls("AuthorizeSecurityGroupEgress"),
    );
    assert_eq!(calls, set_up, "no call beyond the set-up's");
}

#[tokio::test]
async fn compliant_and_exempt_groups_are_left_alone() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let closed = account
        .group(
            "closed",
            Some(vec![ipv4("tcp", Some((443, 443)), "0.0.0.0/0")]),
        )
        .await;
    let exempt = account.group("exempt", None).await;
    account
        .tag(&exempt, "sg-egress-exempt", "NAT instance")
        .await;
    let set_up_revokes = emulator.calls("RevokeSecurityGroupEgress");
    let _function = remediation(&emulator);
    for group in [&closed, &exempt] {
        let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": false}));
        assert_eq!(outcome, "response", "{body}");
        assert_eq!(body["Outcome"], "NothingToDo");
    }
    assert_eq!(
        emulator.calls("RevokeSecurityGroupEgress"),
        set_up_revokes,
        "nothing to revoke, nothing asked"
    );
    let (outcome, body) = emulator.invoke(&json!({"GroupId": closed, "KeepEgress": "icmp:8"}));
    assert_eq!(outcome, "error");
    assert_eq!(body["errorType"], "InvalidEvent");
    let (outcome, body) = emulator.invoke(&json!({"DryRun": false}));
    assert_eq!(outcome, "error");
    assert!(body["errorMessage"]
        .as_str()
        .unwrap()
        .contains("GroupId is missing"));
    // A body that is not JSON reaches the remediation, which names it.
    let (outcome, body) = emulator.invoke_raw(br#"{"GroupId": "#);
    assert_eq!(outcome, "error");
    assert_eq!(body["errorType"], "InvalidEvent", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("the invocation cannot be read: the body is not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn revokes_the_widest_of_two_rules_that_open_the_group_together() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let group = account
        .group(
            "split",
            Some(vec![
                ipv4("tcp", Some((0, 40000)), "0.0.0.0/0"),
                ipv4("tcp", Some((40001, 65535)), "0.0.0.0/0"),
            ]),
        )
        .await;
    let _function = remediation(&emulator);
    let (outcome, body) = emulator.invoke(&json!({"GroupId": group, "DryRun": false}));
    assert_eq!(outcome, "response", "{body}");
    assert_eq!(body["Outcome"], "Revoked");
    assert!(
        body["Message"].as_str().unwrap().contains("revoking sgr-"),
        "{body}"
    );
    let after = without_ids(&egress_rules(&account, &group).await);
    let expected: BTreeSet<(String, i32, i32, String)> =
        [("tcp".to_string(), 40001, 65535, "0.0.0.0/0".to_string())]
            .into_iter()
            .collect();
    assert_eq!(after, expected);
}
