//! `sg-egress scan` against the AWS emulator: the same sweep as the Lambda,
//! printed instead of sent.
#![cfg(feature = "aws")]

mod support;

use serde_json::Value;
use std::process::Command;
use support::*;

fn scan(emulator: &Emulator, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sg-egress"))
        .arg("scan")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", emulator.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[tokio::test]
async fn scan_prints_what_the_sweep_would_send() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let open = account.group("open", None).await;
    let closed = account
        .group(
            "closed",
            Some(vec![ipv4("tcp", Some((443, 443)), "0.0.0.0/0")]),
        )
        .await;
    let list = account.prefix_list(&["0.0.0.0/0"]).await;
    let via_list = account
        .group("via-list", Some(vec![prefix_list("tcp", &list)]))
        .await;

    let output = scan(&emulator, &["--region", "us-east-1"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let evaluations: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let find = |id: &str| {
        evaluations
            .iter()
            .find(|e| e["ComplianceResourceId"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(find(&open)["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(find(&closed)["ComplianceType"], "COMPLIANT");
    // The set-up's VPC has no gateway and only its `local` route, so the
    // exposure (SPEC_EXPOSURE §1) that `annotate`, the default, appends is
    // ISOLATED.
    assert_eq!(
        find(&via_list)["Annotation"],
        format!("all TCP ports to 0.0.0.0/0 via {list}; reach: isolated")
    );
    assert_eq!(evaluations.len(), account.all_group_ids().await.len());
    assert_eq!(emulator.calls("PutEvaluations"), 0, "scan sends nothing");

    let output = scan(
        &emulator,
        &[
            "--region",
            "us-east-1",
            "--output",
            "table",
            "--parameters",
            r#"{"ResolvePrefixLists": "false"}"#,
        ],
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let line = text.lines().find(|l| l.starts_with(&via_list)).unwrap();
    assert!(
        line.contains("COMPLIANT") && !line.contains("NON_COMPLIANT"),
        "{line}"
    );

    // The table's REACH column, and open groups first with --sort exposure.
    let output = scan(
        &emulator,
        &[
            "--region",
            "us-east-1",
            "--output",
            "table",
            "--sort",
            "exposure",
        ],
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("REACH"), "{text}");
    let verdict = |l: &str| {
        l.split_whitespace()
            .find(|t| t.ends_with("COMPLIANT") || *t == "NOT_APPLICABLE")
            .map(str::to_string)
    };
    let open_line = lines.iter().find(|l| l.starts_with(&open)).unwrap();
    assert!(open_line.contains("isolated"), "{open_line}");
    let last_open = lines
        .iter()
        .rposition(|l| verdict(l).as_deref() == Some("NON_COMPLIANT"))
        .unwrap();
    let first_other = lines
        .iter()
        .skip(1)
        .position(|l| verdict(l).as_deref() != Some("NON_COMPLIANT"))
        .map(|p| p + 1)
        .unwrap();
    assert!(last_open < first_other, "{text}");
}

#[tokio::test]
async fn scan_without_a_region_or_with_bad_parameters_exits_2() {
    let emulator = Emulator::start();
    let output = scan(&emulator, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no AWS region"));
    let output = scan(
        &emulator,
        &["--region", "us-east-1", "--parameters", r#"{"Nope": 1}"#],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rule parameter Nope"));
    assert!(output.stdout.is_empty());
    assert_eq!(emulator.calls("DescribeSecurityGroups"), 0);
}

fn by_id(output: &std::process::Output) -> std::collections::BTreeMap<String, Value> {
    let evaluations: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    evaluations
        .into_iter()
        .map(|e| (e["ComplianceResourceId"].as_str().unwrap().to_string(), e))
        .collect()
}

#[tokio::test]
async fn scan_several_regions_of_one_account() {
    let emulator = Emulator::start();
    let east = Account::new_at(&emulator, ACCOUNT, "us-east-1").await;
    let west = Account::new_at(&emulator, ACCOUNT, "eu-west-1").await;
    let open_east = east.group("open", None).await;
    let closed_west = west.group("closed", Some(vec![])).await;
    let output = scan(&emulator, &["--regions", "us-east-1,eu-west-1"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = by_id(&output);
    assert_eq!(found[&open_east]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(found[&closed_west]["ComplianceType"], "COMPLIANT");
    assert_eq!(
        found.len(),
        east.all_group_ids().await.len() + west.all_group_ids().await.len()
    );
    let output = scan(
        &emulator,
        &["--regions", "us-east-1,eu-west-1", "--output", "table"],
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("ACCOUNT       REGION          RESOURCE"),
        "{text}"
    );
    let line = text.lines().find(|l| l.contains(&closed_west)).unwrap();
    assert!(
        line.starts_with(&format!("{ACCOUNT}  eu-west-1 ")),
        "{line}"
    );

    let output = scan(&emulator, &["--regions", "us-east-1,Not A Region"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a region name"));
}

#[tokio::test]
async fn scan_every_enabled_region() {
    let emulator = Emulator::start();
    let west = Account::new_at(&emulator, ACCOUNT, "eu-west-1").await;
    let open_west = west.group("open", None).await;
    let before = emulator.calls("DescribeSecurityGroups");
    let output = scan(&emulator, &["--region", "us-east-1", "--regions", "all"]);
    // --region and --regions do not go together.
    assert_eq!(output.status.code(), Some(2));
    let output = scan(&emulator, &["--regions", "all"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // No region in the environment: DescribeRegions needs one.
    assert!(stderr.contains("no AWS region"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_sg-egress"))
        .args(["scan", "--regions", "all"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", emulator.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        by_id(&output)[&open_west]["ComplianceType"],
        "NON_COMPLIANT"
    );
    assert_eq!(emulator.calls("DescribeRegions"), 1);
    let regions = emulator.calls("DescribeSecurityGroups") - before;
    assert!(regions > 10, "one sweep per enabled region ({regions})");
}

#[tokio::test]
async fn scan_an_aggregator_over_two_accounts_and_two_regions() {
    let emulator = Emulator::start();
    let mut expected = std::collections::BTreeMap::new();
    let mut sources = Vec::new();
    for account in [ACCOUNT, MEMBER] {
        for region in ["us-east-1", "eu-west-1"] {
            let place = Account::new_at(&emulator, account, region).await;
            let open = place.group("open", None).await;
            let closed = place.group("closed", Some(vec![])).await;
            expected.insert(open, ("NON_COMPLIANT", account, region));
            expected.insert(closed, ("COMPLIANT", account, region));
            for id in place.all_group_ids().await {
                expected
                    .entry(id)
                    .or_insert(("NON_COMPLIANT", account, region));
            }
            sources.push(serde_json::json!([account, region]));
        }
    }
    emulator.control(
        "aggregator",
        serde_json::json!({"name": "org", "sources": sources}),
    );
    let before = emulator.calls("DescribeSecurityGroups");
    let output = scan(&emulator, &["--aggregator", "org", "--region", "us-east-1"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = by_id(&output);
    assert_eq!(found.len(), expected.len());
    for (id, (verdict, _, _)) in &expected {
        assert_eq!(found[id]["ComplianceType"], *verdict, "{id}");
    }
    assert!(emulator.calls("SelectAggregateResourceConfig") >= 1);
    assert_eq!(
        emulator.calls("DescribeSecurityGroups") - before,
        0,
        "the scan reads Config's items, not EC2"
    );
    let output = scan(
        &emulator,
        &[
            "--aggregator",
            "org",
            "--region",
            "us-east-1",
            "--output",
            "table",
        ],
    );
    let text = String::from_utf8(output.stdout).unwrap();
    for (id, (_, account, region)) in &expected {
        let line = text.lines().find(|l| l.contains(id.as_str())).unwrap();
        assert!(
            line.starts_with(&format!("{account}  {region:<14}")),
            "{line}"
        );
    }
    let output = scan(
        &emulator,
        &["--aggregator", "nope", "--region", "us-east-1"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("NoSuchConfigurationAggregatorException")
    );
}

/// An aggregator's item as `SelectAggregateResourceConfig` returns it: JSON
/// text with the configuration as an object.
fn aggregator_row(id: &str, egress: serde_json::Value) -> String {
    serde_json::json!({
        "accountId": "444455556666",
        "awsRegion": "ap-south-1",
        "resourceId": id,
        "resourceType": "AWS::EC2::SecurityGroup",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-01T00:00:00.000Z",
        "configuration": {"groupId": id, "groupName": id, "vpcId": "vpc-0aaaaaaaaaaaaaaa1", "ipPermissionsEgress": egress},
        "tags": [],
        "relationships": []
    })
    .to_string()
}

#[tokio::test]
async fn an_aggregator_is_read_page_by_page_and_a_bad_row_spoils_no_other() {
    let emulator = Emulator::start();
    let place = Account::new(&emulator).await;
    let own = place.group("open", None).await;
    let open_egress =
        serde_json::json!([{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]);
    // 250 more rows: three pages of at most 100, one of them unreadable.
    let ids: Vec<String> = (0..249)
        .map(|i| format!("sg-{:017x}", 0xa000 + i))
        .collect();
    let mut rows: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let egress = if i % 2 == 0 {
                open_egress.clone()
            } else {
                serde_json::json!([])
            };
            aggregator_row(id, egress)
        })
        .collect();
    let bad = "sg-0bad0bad0bad0bad0";
    rows.insert(
        120,
        aggregator_row(
            bad,
            serde_json::json!([{"ipProtocol": "tcp", "fromPort": "http", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]),
        ),
    );
    emulator.control(
        "aggregator",
        serde_json::json!({"name": "org", "sources": [[ACCOUNT, "us-east-1"]], "rows": rows}),
    );
    let before = emulator.calls("SelectAggregateResourceConfig");
    let output = scan(&emulator, &["--aggregator", "org", "--region", "us-east-1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("1 groups could not be evaluated")
            && stderr.contains(&format!("{bad} of 444455556666 in ap-south-1"))
            && stderr.contains("fromPort"),
        "the bad row is named, with why: {stderr}"
    );
    let pages = emulator.calls("SelectAggregateResourceConfig") - before;
    let total = place.all_group_ids().await.len() + ids.len() + 1;
    assert_eq!(
        pages as usize,
        total.div_ceil(100),
        "every page read, once ({total} rows)"
    );
    // Every other row is evaluated and printed.
    let found = by_id(&output);
    assert_eq!(found.len(), total - 1);
    assert!(!found.contains_key(bad));
    assert_eq!(found[&own]["ComplianceType"], "NON_COMPLIANT");
    for (i, id) in ids.iter().enumerate() {
        let expected = if i % 2 == 0 {
            "NON_COMPLIANT"
        } else {
            "COMPLIANT"
        };
        assert_eq!(found[id]["ComplianceType"], expected, "{id}");
    }
}
