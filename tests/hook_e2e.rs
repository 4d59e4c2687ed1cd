//! The function in hook mode (`SG_EGRESS_MODE=hook`), run as Lambda runs it
//! (the Runtime API of the emulator), answering the CloudFormation Lambda
//! Hook requests of AWS's documentation (tests/fixtures/hook, NOTES.md
//! there), with the emulator serving stack payloads as S3 serves a
//! presigned URL, failures included.
#![cfg(feature = "aws")]

mod catalogue;
mod support;

use serde_json::{json, Value};
use support::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/hook/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hook(emulator: &Emulator, parameters: Option<&str>) -> Function {
    let mut env = vec![("SG_EGRESS_MODE", "hook")];
    if let Some(p) = parameters {
        env.push(("SG_EGRESS_PARAMETERS", p));
    }
    emulator.function_with(&env)
}

/// Invokes and checks the answer is a response in the documented shape.
fn answer(emulator: &Emulator, request: &Value) -> Value {
    let (outcome, body) = emulator.invoke(request);
    assert_eq!(
        outcome, "response",
        "the function answers, never errors: {body}"
    );
    assert_shape(&body, request);
    body
}

fn assert_shape(body: &Value, request: &Value) {
    let status = body["hookStatus"]
        .as_str()
        .unwrap_or_else(|| panic!("no hookStatus: {body}"));
    assert!(["SUCCESS", "FAILED"].contains(&status), "{body}");
    assert_eq!(
        body.get("errorCode").is_some(),
        status == "FAILED",
        "errorCode only when failed: {body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        !message.is_empty() && message.chars().count() <= 4096,
        "{body}"
    );
    let token = request
        .get("clientRequestToken")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert_eq!(body["clientRequestToken"], token, "{body}");
    for annotation in body
        .get("annotations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        assert!(["PASSED", "FAILED", "SKIPPED"].contains(&annotation["status"].as_str().unwrap()));
        assert!((1..=1024).contains(&annotation["annotationName"].as_str().unwrap().len()));
    }
}

fn status(body: &Value) -> (&str, &str) {
    (
        body["hookStatus"].as_str().unwrap(),
        body["errorCode"].as_str().unwrap_or(""),
    )
}

#[test]
fn resource_operations_of_the_documentation() {
    let emulator = Emulator::start();
    let _function = hook(&emulator, None);

    let open = answer(&emulator, &fixture("resource-create-sg-open.json"));
    assert_eq!(status(&open), ("FAILED", "NonCompliant"));
    assert!(
        open["message"]
            .as_str()
            .unwrap()
            .contains("all traffic to 0.0.0.0/0"),
        "{open}"
    );
    let annotation = &open["annotations"][0];
    assert_eq!(annotation["status"], "FAILED");
    assert!(annotation["remediationMessage"]
        .as_str()
        .unwrap()
        .contains("Restrict"));

    // No SecurityGroupEgress: the implicit allow-all.
    let default = answer(&emulator, &fixture("resource-create-sg-no-egress.json"));
    assert_eq!(status(&default), ("FAILED", "NonCompliant"));
    assert!(
        default["message"]
            .as_str()
            .unwrap()
            .contains("implicit default egress"),
        "{default}"
    );

    // Only the proposed properties count.
    let update = answer(&emulator, &fixture("resource-update-sg-restricted.json"));
    assert_eq!(status(&update), ("SUCCESS", ""), "{update}");

    let delete = answer(&emulator, &fixture("resource-delete-sg.json"));
    assert_eq!(status(&delete), ("SUCCESS", ""));
    assert!(delete["message"].as_str().unwrap().contains("deletion"));

    let standalone = answer(
        &emulator,
        &fixture("resource-create-egress-standalone.json"),
    );
    assert_eq!(status(&standalone), ("FAILED", "NonCompliant"));
    assert!(
        standalone["message"].as_str().unwrap().contains("::/0"),
        "{standalone}"
    );

    let exempt = answer(&emulator, &fixture("resource-create-sg-exempt.json"));
    assert_eq!(status(&exempt), ("SUCCESS", ""));
    let message = exempt["message"].as_str().unwrap();
    assert!(
        message.contains("Exempt") && message.contains("CHG-1 proxy"),
        "{message}"
    );

    // AWS's own example shape: no token, ports as numbers.
    let docshape = answer(&emulator, &fixture("resource-create-sg-docshape.json"));
    assert_eq!(status(&docshape), ("FAILED", "NonCompliant"));
    assert!(
        docshape["message"]
            .as_str()
            .unwrap()
            .contains("all TCP ports"),
        "{docshape}"
    );

    // Another resource type is none of the hook's business.
    let mut bucket = fixture("resource-create-sg-open.json");
    bucket["requestData"]["targetName"] = json!("AWS::S3::Bucket");
    assert_eq!(status(&answer(&emulator, &bucket)), ("SUCCESS", ""));
}

#[test]
fn the_rule_parameters_are_the_hooks() {
    let emulator = Emulator::start();
    let _function = hook(&emulator, Some(r#"{"CheckIpv6": "false"}"#));
    let standalone = answer(
        &emulator,
        &fixture("resource-create-egress-standalone.json"),
    );
    assert_eq!(status(&standalone), ("SUCCESS", ""), "{standalone}");
    let open = answer(&emulator, &fixture("resource-create-sg-open.json"));
    assert_eq!(status(&open), ("FAILED", "NonCompliant"));
}

#[test]
fn bad_rule_parameters_fail_every_request_loudly() {
    let emulator = Emulator::start();
    let function = hook(&emulator, Some(r#"{"CheckIpv6": "perhaps"}"#));
    for name in [
        "resource-create-sg-open.json",
        "resource-update-sg-restricted.json",
    ] {
        let body = answer(&emulator, &fixture(name));
        assert_eq!(status(&body), ("FAILED", "InternalFailure"), "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("CheckIpv6"),
            "{body}"
        );
    }
    assert!(function.logs().contains("CheckIpv6"));
}

#[test]
fn stack_operations_fetch_the_payload_and_judge_the_template_whole() {
    let emulator = Emulator::start();
    let _function = hook(&emulator, None);
    for payload in ["stack-payload.json", "stack-payload-yaml.json"] {
        let url = emulator.payload(&fixture(payload).to_string(), 200, 0.0);
        let mut request = fixture("stack-create.json");
        request["requestData"]["payload"] = json!(url);
        let body = answer(&emulator, &request);
        assert_eq!(
            status(&body),
            ("FAILED", "NonCompliant"),
            "{payload}: {body}"
        );
        let message = body["message"].as_str().unwrap();
        // The standalone rule joins RestrictedGroup through its Ref.
        assert!(
            message.contains("OpenGroup") && message.contains("RestrictedGroup"),
            "{payload}: {message}"
        );
        assert!(
            message.starts_with("my-cloudformation-stack: 2 security groups"),
            "{message}"
        );
        assert!(!message.contains("X-Amz-Signature"), "{message}");
    }
    // A stack deletion: no template.
    let url = emulator.payload(r#"{"template": null, "previousTemplate": "{}"}"#, 200, 0.0);
    let mut request = fixture("stack-create.json");
    request["actionInvocationPoint"] = json!("UPDATE_PRE_PROVISION");
    request["requestData"]["payload"] = json!(url);
    assert_eq!(status(&answer(&emulator, &request)), ("SUCCESS", ""));
    // A closed template, with a parameter it cannot know: passes, saying so.
    let template = json!({"Parameters": {"Cidr": {"Type": "String"}}, "Resources": {"G": {"Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "g", "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": {"Ref": "Cidr"}}]}}}});
    let url = emulator.payload(
        &json!({"template": template.to_string(), "previousTemplate": null}).to_string(),
        200,
        0.0,
    );
    request["requestData"]["payload"] = json!(url);
    let body = answer(&emulator, &request);
    assert_eq!(status(&body), ("SUCCESS", ""));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("judged again as each resource is created"),
        "{body}"
    );
    // The same with a default that would open it: the deployment may give
    // another value, so the default is not assumed and the stack passes
    // (`sg-egress check`, given no value, assumes the default and says so).
    // A parameter whose allowed values all open it is refused.
    for (declaration, expected) in [
        (
            json!({"Type": "String", "Default": "0.0.0.0/0"}),
            ("SUCCESS", ""),
        ),
        (
            json!({"Type": "String", "Default": "0.0.0.0/0", "AllowedValues": ["0.0.0.0/0"]}),
            ("FAILED", "NonCompliant"),
        ),
    ] {
        let mut with_default = template.clone();
        with_default["Parameters"]["Cidr"] = declaration.clone();
        let url = emulator.payload(
            &json!({"template": with_default.to_string(), "previousTemplate": null}).to_string(),
            200,
            0.0,
        );
        request["requestData"]["payload"] = json!(url);
        let body = answer(&emulator, &request);
        assert_eq!(status(&body), expected, "{declaration}: {body}");
    }
}

#[test]
fn a_payload_that_cannot_be_had_is_an_internal_failure_naming_why() {
    let emulator = Emulator::start();
    let _function = hook(&emulator, None);
    let mut request = fixture("stack-create.json");
    let cases: [(&str, u16, f64, u64, &str); 4] = [
        ("expired", 403, 0.0, 300, "HTTP 403"),
        ("not JSON", 200, 0.0, 300, "not JSON"),
        (
            "{\"template\": \"Resources: [\"}",
            200,
            0.0,
            300,
            "cannot be read",
        ),
        // Later than the invocation's deadline allows.
        ("{}", 200, 6.0, 8, "did not arrive"),
    ];
    for (body, code, delay, deadline, expected) in cases {
        let url = emulator.payload(body, code, delay);
        request["requestData"]["payload"] = json!(url);
        let (outcome, answer) = emulator.invoke_within(&request, deadline);
        assert_eq!(outcome, "response", "{answer}");
        assert_shape(&answer, &request);
        assert_eq!(
            status(&answer),
            ("FAILED", "InternalFailure"),
            "{body}: {answer}"
        );
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
        assert!(
            !message.contains("X-Amz-Signature"),
            "the signature stays secret: {message}"
        );
    }
}

#[test]
fn every_bad_input_is_an_internal_failure_never_a_crash() {
    let emulator = Emulator::start();
    let _function = hook(&emulator, None);
    for (name, bytes, _) in catalogue::bad_inputs() {
        let (outcome, body) = emulator.invoke_raw(&bytes);
        assert_eq!(outcome, "response", "{name}: {body}");
        assert_eq!(
            status(&body),
            ("FAILED", "InternalFailure"),
            "{name}: {body}"
        );
        // The same input as a group's proposed properties: still an answer
        // in the documented shape, never a crash, and never a pass for
        // properties that are not a group's.
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let mut request = fixture("resource-create-sg-open.json");
            request["requestData"]["targetModel"]["resourceProperties"] = value.clone();
            let body = answer(&emulator, &request);
            if !value.is_object() {
                assert_eq!(
                    status(&body),
                    ("FAILED", "InternalFailure"),
                    "{name}: {body}"
                );
            }
        }
    }
    let mut broken = fixture("resource-create-sg-open.json");
    broken["requestData"]["targetModel"]["resourceProperties"]["SecurityGroupEgress"][0]
        ["FromPort"] = json!("http");
    broken["requestData"]["targetModel"]["resourceProperties"]["SecurityGroupEgress"][0]
        ["IpProtocol"] = json!("tcp");
    let body = answer(&emulator, &broken);
    assert_eq!(status(&body), ("FAILED", "InternalFailure"), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("FromPort"),
        "{body}"
    );
    let mut unknown_point = fixture("resource-create-sg-open.json");
    unknown_point["actionInvocationPoint"] = json!("POST_PROVISION");
    let body = answer(&emulator, &unknown_point);
    assert_eq!(status(&body), ("FAILED", "InternalFailure"));
    assert!(body["message"].as_str().unwrap().contains("POST_PROVISION"));
}

#[test]
fn the_logs_hold_each_answer_but_never_a_tag_even_at_trace() {
    let emulator = Emulator::start();
    let function = emulator.function_with(&[
        ("SG_EGRESS_MODE", "hook"),
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ("RUST_LOG", "trace"),
    ]);
    let exempt = answer(&emulator, &fixture("resource-create-sg-exempt.json"));
    assert_eq!(status(&exempt), ("SUCCESS", ""));
    assert!(exempt["message"].as_str().unwrap().contains("CHG-1 proxy"));
    let open = answer(&emulator, &fixture("resource-create-sg-open.json"));
    assert_eq!(status(&open), ("FAILED", "NonCompliant"));
    let (outcome, broken) = emulator.invoke_raw(b"{\"clientRequestToken\": ");
    assert_eq!(outcome, "response", "{broken}");
    let logs = function.logs();
    assert!(logs.contains("hook: SUCCESS"), "{logs}");
    assert!(
        logs.contains("hook: FAILED NonCompliant") && logs.contains("groups=1"),
        "{logs}"
    );
    assert!(
        logs.contains("hook: FAILED InternalFailure") && logs.contains("not valid JSON"),
        "a failure's reason is logged: {logs}"
    );
    for quoted in ["CHG-1 proxy", "all TCP ports", "0.0.0.0/0", "targetModel"] {
        assert!(!logs.contains(quoted), "{quoted:?} appears in the logs");
    }
}

/// The rule's parameters are the hook's: with `ResolvePrefixLists` (the
/// default) a managed prefix list's entries are read as the rule reads
/// them, so a list holding 0.0.0.0/0 is the internet here too.
#[tokio::test]
async fn a_managed_prefix_list_is_read_as_the_rule_reads_it() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let everything = account.prefix_list(&["0.0.0.0/0"]).await;
    let office = account.prefix_list(&["192.0.2.0/24"]).await;
    let via = |list: &str| {
        let mut request = fixture("resource-create-sg-open.json");
        request["requestData"]["targetModel"]["resourceProperties"]["SecurityGroupEgress"] =
            json!([{"IpProtocol": "-1", "DestinationPrefixListId": list}]);
        request
    };
    let _function = hook(&emulator, None);
    let open = answer(&emulator, &via(&everything));
    assert_eq!(status(&open), ("FAILED", "NonCompliant"), "{open}");
    assert!(
        open["message"].as_str().unwrap().contains(&everything),
        "{open}"
    );
    let closed = answer(&emulator, &via(&office));
    assert_eq!(status(&closed), ("SUCCESS", ""), "{closed}");
    assert_eq!(emulator.calls("GetManagedPrefixListEntries"), 2);
    // A list that cannot be read: no guess, a failure naming it.
    emulator.control(
        "deny",
        json!({"denials": [{"action": "GetManagedPrefixListEntries", "id": office}]}),
    );
    let unreadable = answer(&emulator, &via(&office));
    assert_eq!(status(&unreadable), ("FAILED", "InternalFailure"));
    assert!(
        unreadable["message"]
            .as_str()
            .unwrap()
            .contains(&format!("prefix list {office} cannot be read")),
        "{unreadable}"
    );
    // ResolvePrefixLists false: every list is restricted, nothing is read
    // (a function of its own, on an emulator of its own).
    let emulator = Emulator::start();
    let _function = hook(&emulator, Some(r#"{"ResolvePrefixLists": "false"}"#));
    let body = answer(&emulator, &via(&everything));
    assert_eq!(status(&body), ("SUCCESS", ""), "{body}");
    assert_eq!(emulator.calls("GetManagedPrefixListEntries"), 0);
}

/// A standalone rule joins a group that exists: the group's exemption tag
/// holds for it, as it will for the rule once the rule is added; a group
/// that cannot be read exempts nothing.
#[tokio::test]
async fn a_standalone_rule_takes_its_groups_exemption() {
    let emulator = Emulator::start();
    let account = Account::new(&emulator).await;
    let proxy = account.group("proxy", None).await;
    account
        .tag(&proxy, "sg-egress-exempt", "2099-12-31 outbound proxy")
        .await;
    let plain = account.group("plain", Some(vec![])).await;
    let _function = hook(&emulator, None);
    let to = |group: &str| {
        let mut request = fixture("resource-create-egress-standalone.json");
        request["requestData"]["targetModel"]["resourceProperties"]["GroupId"] = json!(group);
        request
    };
    let exempt = answer(&emulator, &to(&proxy));
    assert_eq!(status(&exempt), ("SUCCESS", ""), "{exempt}");
    assert!(
        exempt["message"]
            .as_str()
            .unwrap()
            .contains("outbound proxy"),
        "{exempt}"
    );
    let open = answer(&emulator, &to(&plain));
    assert_eq!(status(&open), ("FAILED", "NonCompliant"), "{open}");
    let unknown = answer(&emulator, &to("sg-0fffffffffffffff0"));
    assert_eq!(status(&unknown), ("FAILED", "NonCompliant"), "{unknown}");
}
