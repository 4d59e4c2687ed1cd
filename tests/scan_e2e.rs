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
    assert_eq!(
        find(&via_list)["Annotation"],
        format!("all TCP ports to 0.0.0.0/0 via {list}")
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
