//! Malformed inputs and the message each must produce (a reason on stderr
//! for the CLI, a failed invocation for the Lambda). Shared by the CLI and
//! Lambda tests.
#![allow(dead_code)]

/// (name, input bytes, a fragment of the expected message).
pub fn bad_inputs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("empty input", b"".to_vec(), "empty input"),
        ("white space only", b"  \n ".to_vec(), "empty input"),
        ("truncated JSON", br#"{"SecurityGroups": [{"GroupId": "sg-1""#.to_vec(), "not valid JSON"),
        ("not UTF-8", vec![0xff, 0xfe, b'{', b'}'], "not UTF-8"),
        ("a number", b"42".to_vec(), "expected an object"),
        ("unknown shape", br#"{"hello": "world"}"#.to_vec(), "found keys: hello"),
        (
            "port that is not a number",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipProtocol": "tcp", "fromPort": true}]}"#.to_vec(),
            "ipPermissionsEgress[0].fromPort: expected an integer, found a boolean",
        ),
        (
            "port that is not an integer",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipProtocol": "tcp", "fromPort": 22.5}]}"#.to_vec(),
            "ipPermissionsEgress[0].fromPort: expected an integer, found 22.5",
        ),
        (
            "port string that is not a number",
            br#"{"GroupId": "sg-1", "IpPermissionsEgress": [{"IpProtocol": "tcp", "ToPort": "http"}]}"#.to_vec(),
            "IpPermissionsEgress[0].ToPort: expected an integer",
        ),
        (
            "port out of range",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipProtocol": "tcp", "toPort": 70000}]}"#.to_vec(),
            "ipPermissionsEgress[0].toPort: port 70000 is outside -1..=65535",
        ),
        (
            "permission that is not an object",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": ["-1"]}"#.to_vec(),
            "ipPermissionsEgress[0]: expected an object, found a string",
        ),
        (
            "egress that is not an array",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": {"ipProtocol": "-1"}}"#.to_vec(),
            "ipPermissionsEgress: expected an array, found an object",
        ),
        (
            "CIDR that is not a string",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": 0}]}]}"#.to_vec(),
            "ipPermissionsEgress[0].ipv4Ranges[0].cidrIp: expected a string, found a number",
        ),
        (
            "unknown protocol name",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipProtocol": "http"}]}"#.to_vec(),
            "ipPermissionsEgress[0].ipProtocol: unknown protocol \"http\"",
        ),
        (
            "missing protocol",
            br#"{"groupId": "sg-1", "ipPermissionsEgress": [{"ipRanges": ["0.0.0.0/0"]}]}"#.to_vec(),
            "ipPermissionsEgress[0]: ipProtocol is missing",
        ),
        (
            "double-encoded invokingEvent that is not JSON",
            br#"{"invokingEvent": "{\"messageType\": ", "ruleParameters": "{}"}"#.to_vec(),
            "invokingEvent: expected JSON text inside this string",
        ),
        (
            "double-encoded configuration that is not JSON",
            br#"{"configurationItems": [{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configurationItemStatus": "OK", "configuration": "{not json"}]}"#.to_vec(),
            "configurationItems[0].configuration: expected JSON text inside this string",
        ),
        (
            "select row that is not JSON",
            br#"{"Results": ["{\"resourceId\": "]}"#.to_vec(),
            "Results[0]: expected JSON text inside this string",
        ),
        (
            "current item without configuration",
            br#"{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configurationItemStatus": "OK"}"#.to_vec(),
            "configuration is missing",
        ),
        (
            "unknown item status",
            br#"{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configurationItemStatus": "Gone"}"#.to_vec(),
            "configurationItemStatus: unknown configurationItemStatus \"Gone\"",
        ),
        (
            "bad timestamp",
            br#"{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configurationItemCaptureTime": "yesterday", "configuration": {"groupId": "sg-1"}}"#.to_vec(),
            "configurationItemCaptureTime: expected an ISO-8601 timestamp",
        ),
        (
            "unknown message type",
            br#"{"messageType": "ComplianceChangeNotification"}"#.to_vec(),
            "messageType: unknown message type",
        ),
        (
            "event with bad rule parameters",
            br#"{"invokingEvent": "{\"messageType\": \"ScheduledNotification\"}", "ruleParameters": "{\"CheckIpv6\": \"maybe\"}"}"#.to_vec(),
            "rule parameter CheckIpv6: expected true or false",
        ),
        (
            "event with rule parameters that are not JSON",
            br#"{"invokingEvent": "{\"messageType\": \"ScheduledNotification\"}", "ruleParameters": "{"}"#.to_vec(),
            "not valid JSON",
        ),
        (
            "tags of the wrong type",
            br#"{"GroupId": "sg-1", "Tags": "Name=web"}"#.to_vec(),
            "Tags: expected tags as an object or a list",
        ),
        ("bad second document", b"{\"groupId\": \"sg-1\"} [1]".to_vec(), "[0]: expected an object, found a number"),
    ]
}
