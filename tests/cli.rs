//! The `sg-egress` binary on files and stdin: output, exit codes, and bad input.

mod catalogue;

use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn sg_egress(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sg-egress"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sg-egress starts");
    let mut pipe = child.stdin.take().unwrap();
    // A run that fails before it reads its input closes the pipe: that is
    // its answer, not the harness's error.
    if let Err(e) = pipe.write_all(stdin.unwrap_or_default()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A directory of the test's own, removed with everything in it when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(name: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!("sg-egress-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }

    fn join(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks that a value is valid input for PutEvaluations' `Evaluations`.
fn assert_put_evaluations_shape(value: &Value) {
    let list = value.as_array().expect("an array");
    assert!(list.len() <= 100);
    for e in list {
        let object = e.as_object().unwrap();
        for key in object.keys() {
            assert!(
                [
                    "ComplianceResourceType",
                    "ComplianceResourceId",
                    "ComplianceType",
                    "Annotation",
                    "OrderingTimestamp"
                ]
                .contains(&key.as_str()),
                "unexpected key {key}"
            );
        }
        assert!(!e["ComplianceResourceType"].as_str().unwrap().is_empty());
        assert!(!e["ComplianceResourceId"].as_str().unwrap().is_empty());
        assert!(["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"]
            .contains(&e["ComplianceType"].as_str().unwrap()));
        chrono::DateTime::parse_from_rfc3339(e["OrderingTimestamp"].as_str().unwrap()).unwrap();
        if let Some(a) = e.get("Annotation") {
            let n = a.as_str().unwrap().chars().count();
            assert!((1..=256).contains(&n));
        }
    }
}

#[test]
fn every_bundled_event_prints_put_evaluations_input() {
    let expected = [
        ("events/change-noncompliant.json", 1, json!([["sg-0123456789abcdef0", "NON_COMPLIANT", "all traffic to 0.0.0.0/0; all traffic to ::/0"]])),
        ("events/change-compliant.json", 0, json!([["sg-0a1b2c3d4e5f60789", "COMPLIANT", null]])),
        ("events/change-deleted.json", 0, json!([["sg-0123456789abcdef0", "NOT_APPLICABLE", "Configuration item status is ResourceDeleted"]])),
        ("events/oversized.json", 0, json!([])),
        ("events/scheduled.json", 0, json!([])),
        (
            "events/rule-parameters.json",
            0,
            json!([["sg-0b1c2d3e4f5a60718", "COMPLIANT", "Exempt: tag sg-egress-exempt=\"2099-12-31 CHG-4411 outbound proxy\" holds through 2099-12-31 (all traffic to 0.0.0.0/0)"]]),
        ),
    ];
    for (file, code, rows) in expected {
        let output = sg_egress(&["evaluate", "--output", "json", file], None);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{file}: {}",
            stderr(&output)
        );
        let value = stdout_json(&output);
        assert_put_evaluations_shape(&value);
        let got: Vec<Value> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                json!([
                    e["ComplianceResourceId"],
                    e["ComplianceType"],
                    e.get("Annotation").cloned().unwrap_or(Value::Null)
                ])
            })
            .collect();
        assert_eq!(Value::Array(got), rows, "{file}");
    }
}

/// Dated exemptions in the samples and fixtures are either long past (an
/// expired exemption, by design) or far ahead, so that no test and no README
/// sample changes its verdict on a date.
#[test]
fn samples_do_not_depend_on_today() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("events"), &mut files);
    walk(&root.join("tests/fixtures"), &mut files);
    let year_of = first_date_year();
    let mut near = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("sg-egress-exempt") {
            let window: String = text[at..].chars().take(80).collect();
            if let Some(year) = year_of(&window) {
                if (2025..2090).contains(&year) {
                    near.push(format!("{}: {window}", file.display()));
                }
            }
        }
    }
    assert!(files.len() > 10, "{} files", files.len());
    assert!(
        near.is_empty(),
        "dated exemptions that expire within the tests' lifetime:\n{}",
        near.join("\n")
    );
}

/// The year of the first `YYYY-MM-DD` in a text.
fn first_date_year() -> impl Fn(&str) -> Option<i32> {
    |text: &str| {
        let bytes = text.as_bytes();
        (0..bytes.len().saturating_sub(9)).find_map(|i| {
            let d = &bytes[i..i + 10];
            let shaped = d.iter().enumerate().all(|(j, b)| {
                if j == 4 || j == 7 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
            shaped.then(|| std::str::from_utf8(&d[..4]).unwrap().parse().unwrap())
        })
    }
}

#[test]
fn notes_explain_what_offline_evaluation_cannot_do() {
    let output = sg_egress(
        &["evaluate", "events/oversized.json", "events/scheduled.json"],
        None,
    );
    let err = stderr(&output);
    assert!(err.contains("get-resource-config-history"), "{err}");
    assert!(err.contains("sg-egress scan"), "{err}");
}

#[test]
fn every_input_shape_gives_the_same_verdict() {
    let shapes = [
        ("item-event-form.json", 1),
        ("item-api-form.json", 1),
        ("get-resource-config-history.json", 2),
        ("batch-get-resource-config.json", 1),
        ("select-resource-config.json", 1),
        ("configuration.json", 1),
        ("items-list.json", 2),
        ("change-notification.json", 1),
        ("describe-security-groups.json", 1),
        ("security-group.json", 1),
    ];
    for (file, count) in shapes {
        let path = format!("tests/fixtures/{file}");
        let output = sg_egress(&["evaluate", &path], None);
        assert_eq!(output.status.code(), Some(1), "{file}: {}", stderr(&output));
        let value = stdout_json(&output);
        assert_put_evaluations_shape(&value);
        let list = value.as_array().unwrap();
        assert_eq!(list.len(), count, "{file}");
        let first = &list[0];
        assert_eq!(
            first["ComplianceResourceId"], "sg-0123456789abcdef0",
            "{file}"
        );
        assert_eq!(
            first["ComplianceResourceType"], "AWS::EC2::SecurityGroup",
            "{file}"
        );
        assert_eq!(first["ComplianceType"], "NON_COMPLIANT", "{file}");
        assert_eq!(first["Annotation"], "all traffic to 0.0.0.0/0", "{file}");
    }
}

#[test]
fn history_items_are_evaluated_in_order_with_their_own_times() {
    let output = sg_egress(
        &[
            "evaluate",
            "tests/fixtures/get-resource-config-history.json",
        ],
        None,
    );
    let value = stdout_json(&output);
    assert_eq!(value[0]["ComplianceType"], "NON_COMPLIANT");
    assert_eq!(value[0]["OrderingTimestamp"], "2026-11-20T09:14:27.318Z");
    assert_eq!(value[1]["ComplianceType"], "COMPLIANT");
    assert_eq!(value[1]["OrderingTimestamp"], "2026-11-19T08:00:00.000Z");
    let batch = stdout_json(&sg_egress(
        &["evaluate", "tests/fixtures/batch-get-resource-config.json"],
        None,
    ));
    assert_eq!(
        batch[0]["OrderingTimestamp"], "2026-11-20T09:14:27.318Z",
        "epoch seconds"
    );
}

#[test]
fn stdin_and_dash_read_standard_input() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/security-group.json"),
    )
    .unwrap();
    for args in [vec!["evaluate"], vec!["evaluate", "-"]] {
        let output = sg_egress(&args, Some(&bytes));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(stdout_json(&output)[0]["ComplianceType"], "NON_COMPLIANT");
    }
}

#[test]
fn several_documents_in_one_stream() {
    let input = b"{\"groupId\": \"sg-11111111\", \"ipPermissionsEgress\": []}\n{\"groupId\": \"sg-22222222\", \"ipPermissionsEgress\": [{\"ipProtocol\": \"-1\", \"ipRanges\": [\"0.0.0.0/0\"]}]}\n";
    let output = sg_egress(&["evaluate"], Some(input));
    let value = stdout_json(&output);
    assert_eq!(value[0]["ComplianceResourceId"], "sg-11111111");
    assert_eq!(value[1]["ComplianceResourceId"], "sg-22222222");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn parameters_option_overrides_the_events_own() {
    let output = sg_egress(
        &[
            "evaluate",
            "--parameters",
            r#"{"ExemptTagKey": "other"}"#,
            "events/rule-parameters.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout_json(&output)[0]["ComplianceType"], "NON_COMPLIANT");
    let output = sg_egress(
        &[
            "evaluate",
            "--parameters",
            r#"{"CheckIpv6": "false"}"#,
            "events/change-noncompliant.json",
        ],
        None,
    );
    assert_eq!(
        stdout_json(&output)[0]["Annotation"],
        "all traffic to 0.0.0.0/0"
    );
}

#[test]
fn parameters_from_a_file() {
    let dir = ScratchDir::new("cli");
    let file = dir.join("params.json");
    std::fs::write(&file, r#"{"ExemptGroupIds": "sg-0123456789abcdef0"}"#).unwrap();
    let at = format!("@{}", file.display());
    let output = sg_egress(
        &[
            "evaluate",
            "--parameters",
            &at,
            "tests/fixtures/configuration.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout_json(&output)[0]["Annotation"]
        .as_str()
        .unwrap()
        .starts_with("Exempt: group"));
}

#[test]
fn prefix_list_entries_given_on_the_command_line() {
    let group = json!({"GroupId": "sg-11111111", "IpPermissionsEgress": [{"IpProtocol": "-1", "PrefixListIds": [{"PrefixListId": "pl-0abc1234"}]}]});
    let input = group.to_string();
    let output = sg_egress(&["evaluate"], Some(input.as_bytes()));
    assert_eq!(output.status.code(), Some(0));
    let output = sg_egress(
        &[
            "evaluate",
            "--prefix-list",
            "pl-0abc1234=10.0.0.0/8, 0.0.0.0/0",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout_json(&output)[0]["Annotation"],
        "all traffic to 0.0.0.0/0 via pl-0abc1234"
    );

    let dir = ScratchDir::new("pl");
    let file = dir.join("entries.json");
    std::fs::write(
        &file,
        r#"{"Entries": [{"Cidr": "::/0", "Description": "all"}]}"#,
    )
    .unwrap();
    let group6 = json!({"GroupId": "sg-11111111", "IpPermissionsEgress": [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "PrefixListIds": [{"PrefixListId": "pl-0abc1234"}]}]});
    let option = format!("pl-0abc1234=@{}", file.display());
    let output = sg_egress(
        &["evaluate", "--prefix-list", &option],
        Some(group6.to_string().as_bytes()),
    );
    assert_eq!(
        stdout_json(&output)[0]["Annotation"],
        "all TCP ports to ::/0 via pl-0abc1234"
    );

    let output = sg_egress(
        &["evaluate", "--prefix-list", "pl-0abc1234=0.0.0.0/99"],
        Some(input.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a CIDR block"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn network_interfaces_tell_used_from_unused() {
    let unused = json!({"GroupId": "sg-0fffffffffffffff0", "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]});
    let used = json!({"GroupId": "sg-0123456789abcdef0", "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]});
    let input = format!("{unused}{used}");
    let parameters = r#"{"IgnoreUnusedGroups": true}"#;
    // Without the listing, nothing tells: both count as used.
    let output = sg_egress(
        &["evaluate", "--parameters", parameters],
        Some(input.as_bytes()),
    );
    let verdicts: Vec<Value> = stdout_json(&output)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ComplianceType"].clone())
        .collect();
    assert_eq!(verdicts, [json!("NON_COMPLIANT"), json!("NON_COMPLIANT")]);
    let output = sg_egress(
        &[
            "evaluate",
            "--parameters",
            parameters,
            "--network-interfaces",
            "tests/fixtures/describe-network-interfaces.json",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let evaluations = stdout_json(&output);
    assert_eq!(evaluations[0]["ComplianceType"], "NOT_APPLICABLE");
    assert_eq!(
        evaluations[0]["Annotation"],
        "Not attached to any network interface (IgnoreUnusedGroups is true)"
    );
    assert_eq!(evaluations[1]["ComplianceType"], "NON_COMPLIANT");

    // Not DescribeNetworkInterfaces output: exit 2, naming the option and file.
    let output = sg_egress(
        &[
            "evaluate",
            "--network-interfaces",
            "tests/fixtures/security-group.json",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--network-interfaces tests/fixtures/security-group.json")
            && stderr(&output).contains("expected DescribeNetworkInterfaces output"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn awss_own_item_of_a_group_used_by_instances_is_never_unused() {
    // AWS's documented item of sg-6fbb3807: four instance relationships, no
    // interface relationship (tests/fixtures/aws-docs/PROVENANCE.md).
    let output = sg_egress(
        &[
            "evaluate",
            "--parameters",
            r#"{"IgnoreUnusedGroups": true}"#,
            "tests/fixtures/aws-docs/get-resource-config-history-sg-6fbb3807.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let evaluations = stdout_json(&output);
    assert_eq!(evaluations[0]["ComplianceResourceId"], "sg-6fbb3807");
    assert_eq!(evaluations[0]["ComplianceType"], "COMPLIANT");
    assert_eq!(
        evaluations[0]["OrderingTimestamp"],
        "2014-10-30T22:35:29.922Z"
    );
}

#[test]
fn table_output_for_people() {
    let output = sg_egress(
        &[
            "evaluate",
            "--output",
            "table",
            "events/change-noncompliant.json",
            "events/change-compliant.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("RESOURCE"));
    assert!(
        lines[1].starts_with(
            "sg-0123456789abcdef0  NON_COMPLIANT   all traffic to 0.0.0.0/0; all traffic to ::/0"
        ),
        "{text}"
    );
    assert!(
        lines[2].starts_with("sg-0a1b2c3d4e5f60789  COMPLIANT       -"),
        "{text}"
    );
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn bad_input_exits_2_with_a_reason_and_nothing_on_stdout() {
    let cases = catalogue::bad_inputs();
    for (name, input, message) in cases {
        let output = sg_egress(&["evaluate"], Some(&input));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {err}");
        assert!(output.stdout.is_empty(), "{name}: stdout should be empty");
        assert!(
            err.contains(message),
            "{name}: {err:?} should contain {message:?}"
        );
        assert!(err.starts_with("sg-egress: stdin: "), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn bad_parameters_and_files_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "evaluate",
                "--parameters",
                r#"{"checkIpv6": "true"}"#,
                "events/change-compliant.json",
            ],
            "rule parameter checkIpv6: unknown parameter (did you mean CheckIpv6?",
        ),
        (
            &[
                "evaluate",
                "--parameters",
                "{",
                "events/change-compliant.json",
            ],
            "--parameters: not valid JSON",
        ),
        (
            &[
                "evaluate",
                "--parameters",
                "[]",
                "events/change-compliant.json",
            ],
            "expected a JSON object",
        ),
        (
            &[
                "evaluate",
                "--parameters",
                r#"{"ExemptGroupIds": "web"}"#,
                "events/change-compliant.json",
            ],
            "rule parameter ExemptGroupIds: \"web\" is not a valid id",
        ),
        (
            &["evaluate", "does-not-exist.json"],
            "does-not-exist.json: ",
        ),
        (
            &["evaluate", "--prefix-list", "nothing"],
            "expected pl-ID=CIDR",
        ),
        (
            &[
                "evaluate",
                "--output",
                "yaml",
                "events/change-compliant.json",
            ],
            "invalid value 'yaml'",
        ),
    ];
    for (args, message) in cases {
        let output = sg_egress(args, None);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn a_bad_file_loses_the_whole_run_rather_than_part_of_it() {
    let output = sg_egress(
        &["evaluate", "events/change-noncompliant.json", "-"],
        Some(b"{"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn evaluate_with_the_network_says_where_open_traffic_can_go() {
    let dir = "tests/fixtures/network";
    let network = [
        "--network",
        &format!("{dir}/network-interfaces.json"),
        "--network",
        &format!("{dir}/route-tables.json"),
        "--network",
        &format!("{dir}/gateways.json"),
    ]
    .map(String::from);
    let mut args: Vec<&str> = vec!["evaluate"];
    args.extend(network.iter().map(String::as_str));
    let groups = format!("{dir}/groups.json");
    args.push(&groups);
    let output = sg_egress(&args, None);
    assert_eq!(output.status.code(), Some(1));
    let annotations: Vec<String> = stdout_json(&output)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Annotation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        annotations,
        [
            "all traffic to 0.0.0.0/0; reach: direct via igw-0aaaaaaaaaaaaaaa1",
            "all traffic to 0.0.0.0/0; reach: via nat-0aaaaaaaaaaaaaaa1",
            "all traffic to 0.0.0.0/0; reach: isolated",
        ]
    );
    // Only ISOLATED relaxes, when asked.
    let mut relaxed = args.clone();
    relaxed.splice(
        1..1,
        ["--parameters", r#"{"ExposureMode": "relax-isolated"}"#],
    );
    let verdicts: Vec<String> = stdout_json(&sg_egress(&relaxed, None))
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ComplianceType"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(verdicts, ["NON_COMPLIANT", "NON_COMPLIANT", "COMPLIANT"]);
    // Without the network, nothing is said about reach.
    let plain = stdout_json(&sg_egress(&["evaluate", &groups], None));
    assert_eq!(plain[0]["Annotation"], "all traffic to 0.0.0.0/0");
    // A file that is no network input: exit 2, naming it.
    let output = sg_egress(&["evaluate", "--network", &groups, &groups], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--network") && stderr.contains("not a network input"),
        "{stderr}"
    );
    // A bad ExposureMode fails loudly.
    let output = sg_egress(
        &[
            "evaluate",
            "--parameters",
            r#"{"ExposureMode": "loud"}"#,
            &groups,
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ExposureMode"));
}
