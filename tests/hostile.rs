//! Hostile and malformed input: every case has an expected outcome, a verdict
//! or a clear error, and none may panic or hang. Sizes are large on purpose
//! (10,000 permissions, 100,000 CIDR blocks, 10,000 levels of nesting).

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use sg_egress_core::read_documents;
use sg_egress_core::{evaluate_document, Compliance, KnownPrefixLists, Parameters};

enum Expect {
    /// One evaluation per entry: the verdict and a fragment of the annotation
    /// ("" = no annotation at all).
    Verdicts(Vec<(Compliance, &'static str)>),
    /// A count of evaluations, all with this verdict.
    Many(usize, Compliance),
    /// An error whose message contains this.
    Error(&'static str),
}

use Compliance::{Compliant as C, NonCompliant as NC, NotApplicable as NA};
use Expect::{Error, Many, Verdicts};

fn group(egress: Value) -> Value {
    json!({ "groupId": "sg-12345678", "ipPermissionsEgress": egress })
}

fn open(cidr: &str) -> Value {
    json!({ "ipProtocol": "-1", "ipRanges": [cidr] })
}

fn item(configuration: Value) -> Value {
    json!({ "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-12345678", "configurationItemStatus": "OK", "configuration": configuration })
}

fn event(invoking: Value) -> Value {
    json!({ "invokingEvent": invoking.to_string(), "ruleParameters": "{}", "resultToken": "TESTMODE" })
}

fn change(item: Value) -> Value {
    json!({ "messageType": "ConfigurationItemChangeNotification", "configurationItem": item })
}

fn text(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// The exemption annotation around a tag value of `n` characters.
fn exempt_with_value_of(n: usize) -> Vec<u8> {
    let mut value = item(group(json!([open("0.0.0.0/0")])));
    value["tags"] = json!({ "sg-egress-exempt": "x".repeat(n) });
    text(value)
}

fn cases() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let prefix_len =
        "Exempt: tag sg-egress-exempt=\"".len() + "\" (all traffic to 0.0.0.0/0)".len();
    vec![
        // Truncated and not JSON.
        ("truncated event", br#"{"invokingEvent": "{\"messageType\": \"Con"#.to_vec(), Error("not valid JSON")),
        ("truncated item", br#"{"resourceType": "AWS::EC2::SecurityGroup", "configuration": {"groupId""#.to_vec(), Error("not valid JSON")),
        ("non-UTF-8 inside a string", b"{\"groupId\": \"sg-\xc3\x28\"}".to_vec(), Error("not UTF-8")),
        ("a lone continuation byte", vec![0x80], Error("not UTF-8")),
        ("byte order mark, then a group", [b"\xef\xbb\xbf".as_slice(), &text(group(json!([open("0.0.0.0/0")])))].concat(), Verdicts(vec![(NC, "all traffic")])),
        ("number out of range", br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipProtocol": "tcp", "fromPort": 1e400}]}"#.to_vec(), Error("not valid JSON")),
        ("10,000 nested arrays", [vec![b'['; 10_000], vec![b']'; 10_000]].concat(), Error("recursion limit")),
        // The reader stops at the first value of the wrong type, before descending.
        ("10,000 nested objects in a tag", format!("{{\"groupId\": \"sg-1\", \"tags\": {}1{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(), Error("tags.a: expected a string, found an object")),
        // A member the reader skips is skipped without recursion: no stack to overflow.
        ("10,000 nested objects in a skipped member", format!("{{\"groupId\": \"sg-1\", \"description\": {}1{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(), Verdicts(vec![(C, "")])),
        ("empty object", b"{}".to_vec(), Error("found keys: none")),
        ("empty array", b"[]".to_vec(), Verdicts(vec![])),
        ("JSON null", b"null".to_vec(), Error("expected an object, found null")),
        ("a string", b"\"sg-12345678\"".to_vec(), Error("expected an object, found a string")),
        // Wrong types and nulls.
        ("configuration is a number", text(item(json!(42))), Error("configuration: expected an object, found a number")),
        ("configuration is JSON text of an array", text(item(json!("[1,2]"))), Error("configuration: expected an object, found an array")),
        ("egress is a string", text(group(json!("all"))), Error("ipPermissionsEgress: expected an array, found a string")),
        ("a permission is null", text(group(json!([null]))), Error("ipPermissionsEgress[0]: expected an object, found null")),
        (
            "every member of a permission is null",
            text(group(json!([{"ipProtocol": "-1", "fromPort": null, "toPort": null, "ipv4Ranges": null, "ipRanges": null, "ipv6Ranges": null, "prefixListIds": null, "userIdGroupPairs": null}]))),
            Verdicts(vec![(C, "")]),
        ),
        ("every member of an item is null", text(json!({"resourceType": null, "resourceId": null, "configurationItemStatus": null, "configuration": null})), Error("configuration is missing")),
        ("groupId is null", text(json!({"groupId": null, "ipPermissionsEgress": []})), Error("groupId is missing")),
        ("a range element is a number", text(group(json!([{"ipProtocol": "-1", "ipRanges": [0]}]))), Error("ipRanges[0]: expected an object with cidrIp or a CIDR string")),
        ("a range object lacks its CIDR", text(group(json!([{"ipProtocol": "-1", "ipv4Ranges": [{"description": "x"}]}]))), Error("ipv4Ranges[0]: cidrIp is missing")),
        ("a tag value is a number", text(json!({"groupId": "sg-1", "tags": [{"key": "a", "value": 1}]})), Error("tags[0].value: expected a string")),
        ("a tag lacks its key", text(json!({"groupId": "sg-1", "tags": [{"value": "a"}]})), Error("tags[0]: key is missing")),
        ("a Results row is a number", text(json!({"Results": [7]})), Error("Results[0]: expected an object, found a number")),
        ("SecurityGroups is an object", text(json!({"SecurityGroups": {}})), Error("SecurityGroups: expected an array")),
        ("a history item is null", text(json!({"configurationItems": [null]})), Error("configurationItems[0]: expected an object, found null")),
        // Duplicate keys: the last one wins, as in most JSON readers.
        ("duplicate groupId", br#"{"groupId": "sg-11111111", "groupId": "sg-22222222", "ipPermissionsEgress": []}"#.to_vec(), Verdicts(vec![(C, "")])),
        (
            "duplicate egress, the open one last",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [], "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"]}]}"#.to_vec(),
            Verdicts(vec![(NC, "all traffic to 0.0.0.0/0")]),
        ),
        // CIDRs.
        ("CIDR with a leading space", text(group(json!([open(" 0.0.0.0/0")]))), Verdicts(vec![(C, "ignored malformed CIDR \" 0.0.0.0/0\"")])),
        ("CIDR with a trailing newline", text(group(json!([open("0.0.0.0/0\n")]))), Verdicts(vec![(C, "ignored malformed CIDR \"0.0.0.0/0\\n\"")])),
        ("IPv6 with a zone", text(group(json!([{"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "fe80::1%eth0/64"}]}]))), Verdicts(vec![(C, "ignored malformed CIDR")])),
        ("prefix /33", text(group(json!([open("0.0.0.0/33")]))), Verdicts(vec![(C, "ignored malformed CIDR \"0.0.0.0/33\"")])),
        ("prefix /4294967296", text(group(json!([open("0.0.0.0/4294967296")]))), Verdicts(vec![(C, "ignored malformed CIDR")])),
        ("IPv4 block in ipv6Ranges counts as IPv4", text(group(json!([{"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "0.0.0.0/0"}]}]))), Verdicts(vec![(NC, "all traffic to 0.0.0.0/0")])),
        ("IPv4-mapped IPv6 is not the whole space", text(group(json!([{"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "::ffff:0.0.0.0/96"}]}]))), Verdicts(vec![(C, "")])),
        ("empty CIDR string", text(group(json!([open("")]))), Verdicts(vec![(C, "ignored malformed CIDR \"\"")])),
        // Ports and protocols.
        ("port 65536", text(group(json!([{"ipProtocol": "tcp", "toPort": 65536}]))), Error("port 65536 is outside -1..=65535")),
        ("port -2", text(group(json!([{"ipProtocol": "udp", "fromPort": -2}]))), Error("port -2 is outside -1..=65535")),
        ("port 1e20", text(group(json!([{"ipProtocol": "tcp", "fromPort": 1e20}]))), Error("fromPort: expected an integer")),
        ("port \"22.0\"", text(group(json!([{"ipProtocol": "tcp", "fromPort": "22.0"}]))), Error("fromPort: expected an integer, found the string \"22.0\"")),
        ("port -0.0", text(group(json!([{"ipProtocol": "tcp", "fromPort": -0.0, "toPort": 65535, "ipRanges": ["0.0.0.0/0"]}]))), Verdicts(vec![(NC, "all TCP ports")])),
        ("ICMP type 300 is not a port", text(group(json!([{"ipProtocol": "icmp", "fromPort": 300, "toPort": -1, "ipRanges": ["0.0.0.0/0"]}]))), Verdicts(vec![(C, "")])),
        ("protocol 256", text(group(json!([{"ipProtocol": "256"}]))), Error("protocol number \"256\" is out of range")),
        ("protocol empty", text(group(json!([{"ipProtocol": ""}]))), Error("unknown protocol \"\"")),
        ("protocol an object", text(group(json!([{"ipProtocol": {"name": "tcp"}}]))), Error("ipProtocol: expected a protocol name or number")),
        ("protocol with spaces", text(group(json!([{"ipProtocol": " TCP ", "ipRanges": ["0.0.0.0/0"]}]))), Verdicts(vec![(NC, "all TCP ports")])),
        // Events.
        ("unknown message type", text(event(json!({"messageType": "ComplianceChangeNotification"}))), Error("unknown message type \"ComplianceChangeNotification\"")),
        ("message type missing", text(event(json!({"configurationItem": {}}))), Error("invokingEvent: messageType is missing")),
        ("invokingEvent is a number", text(json!({"invokingEvent": 5})), Error("invokingEvent: expected an object, found a number")),
        ("invokingEvent is JSON text of an array", text(json!({"invokingEvent": "[]"})), Error("invokingEvent: expected an object, found an array")),
        ("ruleParameters is an array", text(json!({"invokingEvent": change(item(group(json!([])))).to_string(), "ruleParameters": "[]"})), Error("expected a JSON object of parameters")),
        ("no result token (offline it is not needed)", text(json!({"invokingEvent": change(item(group(json!([open("0.0.0.0/0")])))).to_string()})), Verdicts(vec![(NC, "all traffic")])),
        ("eventLeftScope as a string", text(json!({"invokingEvent": change(item(group(json!([])))).to_string(), "eventLeftScope": "TRUE"})), Verdicts(vec![(NA, "left the rule's scope")])),
        ("eventLeftScope as a number", text(json!({"invokingEvent": "{}", "eventLeftScope": 1})), Error("eventLeftScope: expected true or false")),
        ("unknown item status", text(json!({"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configurationItemStatus": "Deleted"})), Error("unknown configurationItemStatus")),
        ("another type with a garbage configuration", text(json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "configuration": "{garbage"})), Verdicts(vec![(NA, "AWS::S3::Bucket is not evaluated")])),
        ("capture time before 1970", text(json!({"resourceId": "sg-1", "configurationItemCaptureTime": -5, "configuration": group(json!([]))})), Error("expected epoch seconds")),
        ("capture time in year 10000", text(json!({"resourceId": "sg-1", "configurationItemCaptureTime": "10000-01-01T00:00:00Z", "configuration": group(json!([]))})), Error("expected an ISO-8601 timestamp")),
        // Annotation lengths.
        ("annotation of exactly 256 characters", exempt_with_value_of(256 - prefix_len), Verdicts(vec![(C, "x\" (all traffic to 0.0.0.0/0)")])),
        ("annotation of 257 characters is cut", exempt_with_value_of(257 - prefix_len), Verdicts(vec![(C, "x\" (all traffic to 0.0.0.0/…")])),
        ("a tag value with control characters", text(json!({"resourceId": "sg-1", "tags": {"sg-egress-exempt": "a\nb\u{0}c"}, "configuration": group(json!([open("0.0.0.0/0")]))})), Verdicts(vec![(C, "tag sg-egress-exempt=\"a\\nb\\0c\"")])),
        // Sizes.
        (
            "10,000 single-port permissions leave ports open",
            text(group(Value::Array((1..=10_000).map(|p| json!({"ipProtocol": "tcp", "fromPort": p, "toPort": p, "ipRanges": ["0.0.0.0/0"]})).collect()))),
            Verdicts(vec![(C, "")]),
        ),
        (
            "10,000 permissions that together open every TCP port",
            text(group(Value::Array((0..10_000u32).map(|i| json!({"ipProtocol": "tcp", "fromPort": i * 65_536 / 10_000, "toPort": (i + 1) * 65_536 / 10_000 - 1, "ipRanges": ["0.0.0.0/0"]})).collect()))),
            Verdicts(vec![(NC, "all TCP ports to 0.0.0.0/0 (several rules together)")]),
        ),
        (
            "100,000 private CIDR blocks",
            text(group(json!([{"ipProtocol": "-1", "ipRanges": (0..100_000u32).map(|i| format!("10.{}.{}.0/24", i / 256 % 256, i % 256)).collect::<Vec<_>>()}]))),
            Verdicts(vec![(C, "")]),
        ),
        (
            "65,536 /16 blocks that are the whole IPv4 space",
            text(group(json!([{"ipProtocol": "-1", "ipRanges": (0..65_536u32).map(|i| format!("{}.{}.0.0/16", i / 256, i % 256)).collect::<Vec<_>>()}]))),
            Verdicts(vec![(NC, "all traffic to 0.0.0.0/16, 0.1.0.0/16, ")]),
        ),
        ("a 10 MB description", text(json!({"groupId": "sg-1", "description": "d".repeat(10_000_000), "ipPermissionsEgress": [open("0.0.0.0/0")]})), Verdicts(vec![(NC, "all traffic")])),
        ("a list of 10,000 items", text(Value::Array(vec![item(group(json!([open("0.0.0.0/0")]))); 10_000])), Many(10_000, NC)),
    ]
}

#[test]
fn every_hostile_input_has_its_expected_outcome() {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    eprintln!("{} hostile inputs", cases.len());
    let mut failures = Vec::new();
    for (name, bytes, expect) in cases {
        let outcome = read_documents(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|documents| {
                documents
                    .iter()
                    .map(|d| {
                        let parameters = match &d.rule_parameters {
                            Some(t) => Parameters::from_json_text(t).map_err(|e| e.to_string())?,
                            None => Parameters::default(),
                        };
                        Ok(evaluate_document(
                            d,
                            &parameters,
                            &KnownPrefixLists::new(),
                            now,
                        ))
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map(|v| v.concat())
            });
        let ok = match (&expect, &outcome) {
            (Error(fragment), Err(message)) => message.contains(fragment),
            (Verdicts(expected), Ok(evaluations)) => {
                evaluations.len() == expected.len()
                    && evaluations
                        .iter()
                        .zip(expected)
                        .all(|(e, (compliance, fragment))| {
                            e.compliance_type == *compliance
                                && match &e.annotation {
                                    None => fragment.is_empty(),
                                    // "" means no annotation at all, not "any annotation".
                                    Some(a) => {
                                        !fragment.is_empty()
                                            && a.contains(fragment)
                                            && a.chars().count() <= 256
                                            && a.encode_utf16().count() <= 256
                                    }
                                }
                        })
            }
            (Many(n, compliance), Ok(evaluations)) => {
                evaluations.len() == *n
                    && evaluations.iter().all(|e| e.compliance_type == *compliance)
            }
            _ => false,
        };
        if !ok {
            let got = match &outcome {
                Ok(evaluations) => format!(
                    "{:?}",
                    evaluations
                        .iter()
                        .take(3)
                        .map(|e| (e.compliance_type, e.annotation.clone()))
                        .collect::<Vec<_>>()
                ),
                Err(message) => format!("error {message:?}"),
            };
            failures.push(format!(
                "{name}: got {}",
                got.chars().take(400).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn annotation_edge_is_exact() {
    // 256 characters are kept whole; 257 are cut to 255 and an ellipsis.
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let prefix_len =
        "Exempt: tag sg-egress-exempt=\"".len() + "\" (all traffic to 0.0.0.0/0)".len();
    for (n, ends_with) in [(256, ")"), (257, "…")] {
        let documents = read_documents(&exempt_with_value_of(n - prefix_len)).unwrap();
        let e = &evaluate_document(
            &documents[0],
            &Parameters::default(),
            &KnownPrefixLists::new(),
            now,
        )[0];
        let a = e.annotation.as_deref().unwrap();
        assert_eq!(a.chars().count(), 256);
        assert!(a.ends_with(ends_with), "{n}: {a}");
    }
}
