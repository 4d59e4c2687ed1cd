//! SPEC.md, line by line: each case is an input, parameters, a date, and the
//! verdict and annotation the rule must give.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use sg_egress_core::model::GroupsInUse;
use sg_egress_core::read::read_network_interfaces;
use sg_egress_core::read_documents;
use sg_egress_core::{evaluate_document, Compliance, KnownPrefixLists, Parameters};

const GROUP: &str = "sg-0123456789abcdef0";
const VPC: &str = "vpc-0a1b2c3d";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// An egress permission in Config's camelCase form.
fn perm(protocol: Value, from: Value, to: Value, v4: &[&str], v6: &[&str]) -> Value {
    json!({
        "ipProtocol": protocol, "fromPort": from, "toPort": to,
        "ipv4Ranges": v4.iter().map(|c| json!({"cidrIp": c})).collect::<Vec<_>>(),
        "ipv6Ranges": v6.iter().map(|c| json!({"cidrIpv6": c})).collect::<Vec<_>>(),
        "prefixListIds": [], "userIdGroupPairs": []
    })
}

fn all(v4: &[&str], v6: &[&str]) -> Value {
    perm(json!("-1"), Value::Null, Value::Null, v4, v6)
}

fn tcp(from: i64, to: i64, v4: &[&str]) -> Value {
    perm(json!("tcp"), json!(from), json!(to), v4, &[])
}

fn udp(from: i64, to: i64, v4: &[&str]) -> Value {
    perm(json!("udp"), json!(from), json!(to), v4, &[])
}

/// A bare `configuration` object.
fn config(egress: Vec<Value>) -> Value {
    json!({ "groupId": GROUP, "vpcId": VPC, "groupName": "web", "ipPermissionsEgress": egress })
}

fn with(mut value: Value, key: &str, member: Value) -> Value {
    value[key] = member;
    value
}

/// A configuration item (event form) around a configuration.
fn item(configuration: Value) -> Value {
    json!({
        "configurationItemCaptureTime": "2026-11-20T09:14:27.318Z",
        "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": GROUP,
        "tags": {},
        "relationships": [
            {"resourceType": "AWS::EC2::NetworkInterface", "resourceId": "eni-0a1b2c3d4e5f60718", "name": "Is associated with NetworkInterface"}
        ],
        "configuration": configuration
    })
}

struct Case {
    name: &'static str,
    input: Value,
    parameters: Value,
    prefix_lists: &'static [(&'static str, &'static [&'static str])],
    /// `DescribeNetworkInterfaces` output given as `--network-interfaces`.
    interfaces: Option<Value>,
    compliance: Compliance,
    annotation: Option<&'static str>,
}

fn case(
    name: &'static str,
    input: Value,
    compliance: Compliance,
    annotation: Option<&'static str>,
) -> Case {
    Case {
        name,
        input,
        parameters: json!({}),
        prefix_lists: &[],
        interfaces: None,
        compliance,
        annotation,
    }
}

fn interfaces(mut c: Case, listing: Value) -> Case {
    c.interfaces = Some(listing);
    c
}

/// `aws ec2 describe-network-interfaces` output whose interfaces list these groups.
fn listing(groups: &[&str]) -> Value {
    json!({"NetworkInterfaces": groups.iter().enumerate().map(|(i, g)| json!({
        "NetworkInterfaceId": format!("eni-0{i:016x}"), "InterfaceType": "interface",
        "Groups": [{"GroupName": "web", "GroupId": g}]
    })).collect::<Vec<_>>()})
}

fn params(mut c: Case, parameters: Value) -> Case {
    c.parameters = parameters;
    c
}

use Compliance::{Compliant as C, NonCompliant as NC, NotApplicable as NA};

const ALL_V4: Option<&str> = Some("all traffic to 0.0.0.0/0");
const TCP_V4: Option<&str> = Some("all TCP ports to 0.0.0.0/0");
const UDP_V4: Option<&str> = Some("all UDP ports to 0.0.0.0/0");

fn cases() -> Vec<Case> {
    let open = || vec![all(&["0.0.0.0/0"], &[])];
    let tagged = |key: &str, value: &str| with(item(config(open())), "tags", json!({ key: value }));
    let vpc_only = || {
        with(
            item(config(open())),
            "relationships",
            json!([{"resourceType": "AWS::EC2::VPC", "resourceId": VPC}]),
        )
    };
    let many_cidrs: Vec<String> = (0..128u32).map(|i| format!("{}.0.0.0/7", i * 2)).collect();
    let many_refs: Vec<&str> = many_cidrs.iter().map(String::as_str).collect();
    vec![
        // Section 2, protocol.
        case("-1 is all traffic", config(open()), NC, ALL_V4),
        case("all is all traffic", config(vec![perm(json!("all"), Value::Null, Value::Null, &["0.0.0.0/0"], &[])]), NC, ALL_V4),
        case("ALL in capitals", config(vec![perm(json!("ALL"), Value::Null, Value::Null, &["0.0.0.0/0"], &[])]), NC, ALL_V4),
        case("-1 as a JSON number", config(vec![perm(json!(-1), Value::Null, Value::Null, &["0.0.0.0/0"], &[])]), NC, ALL_V4),
        case("TCP in capitals, all ports", config(vec![perm(json!("TCP"), json!(0), json!(65535), &["0.0.0.0/0"], &[])]), NC, TCP_V4),
        case("protocol 6 is tcp", config(vec![perm(json!("6"), json!(0), json!(65535), &["0.0.0.0/0"], &[])]), NC, TCP_V4),
        case("protocol 17 is udp", config(vec![perm(json!("17"), json!(0), json!(65535), &["0.0.0.0/0"], &[])]), NC, UDP_V4),
        case("udp 1-65535", config(vec![udp(1, 65535, &["0.0.0.0/0"])]), NC, UDP_V4),
        case("icmp all types is not a finding", config(vec![perm(json!("icmp"), json!(-1), json!(-1), &["0.0.0.0/0"], &[])]), C, None),
        case("protocol 1 is icmp", config(vec![perm(json!("1"), json!(-1), json!(-1), &["0.0.0.0/0"], &[])]), C, None),
        case("icmpv6 to ::/0", config(vec![perm(json!("icmpv6"), json!(-1), json!(-1), &[], &["::/0"])]), C, None),
        case("protocol 58 is icmpv6", config(vec![perm(json!("58"), json!(-1), json!(-1), &[], &["::/0"])]), C, None),
        case("port-less protocol 47 (GRE)", config(vec![perm(json!("47"), Value::Null, Value::Null, &["0.0.0.0/0"], &[])]), C, None),
        case("port-less protocol 50 (ESP) as a number", config(vec![perm(json!(50), Value::Null, Value::Null, &["0.0.0.0/0"], &[])]), C, None),
        // Section 2, ports.
        case("tcp with -1 ports is all ports", config(vec![tcp(-1, -1, &["0.0.0.0/0"])]), NC, TCP_V4),
        case("tcp with missing ports", config(vec![json!({"ipProtocol": "tcp", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]})]), NC, TCP_V4),
        case("tcp with null ports", config(vec![perm(json!("tcp"), Value::Null, Value::Null, &["0.0.0.0/0"], &[])]), NC, TCP_V4),
        case("tcp 0-65535", config(vec![tcp(0, 65535, &["0.0.0.0/0"])]), NC, TCP_V4),
        case("tcp 1-65535: port 0 is not required", config(vec![tcp(1, 65535, &["0.0.0.0/0"])]), NC, TCP_V4),
        case("tcp 2-65535 misses port 1", config(vec![tcp(2, 65535, &["0.0.0.0/0"])]), C, None),
        case("tcp 0-65534 misses port 65535", config(vec![tcp(0, 65534, &["0.0.0.0/0"])]), C, None),
        case("tcp 22 as integral floats", config(vec![perm(json!("tcp"), json!(22.0), json!(22.0), &["0.0.0.0/0"], &[])]), C, None),
        case("tcp 0.0-65535.0 floats", config(vec![perm(json!("tcp"), json!(0.0), json!(65535.0), &["0.0.0.0/0"], &[])]), NC, TCP_V4),
        case("tcp ports as strings", config(vec![perm(json!("tcp"), json!("0"), json!("65535"), &["0.0.0.0/0"], &[])]), NC, TCP_V4),
        case("tcp fromPort above toPort covers nothing", config(vec![tcp(65535, 0, &["0.0.0.0/0"])]), C, None),
        case(
            "tcp split in two halves across permissions",
            config(vec![tcp(1, 32767, &["0.0.0.0/0"]), tcp(32768, 65535, &["0.0.0.0/0"])]),
            NC,
            Some("all TCP ports to 0.0.0.0/0 (several rules together)"),
        ),
        case("tcp halves with a one-port gap", config(vec![tcp(1, 32767, &["0.0.0.0/0"]), tcp(32769, 65535, &["0.0.0.0/0"])]), C, None),
        case("tcp and udp halves do not add up", config(vec![tcp(1, 1000, &["0.0.0.0/0"]), udp(1001, 65535, &["0.0.0.0/0"])]), C, None),
        case(
            "all TCP and all UDP ports",
            config(vec![tcp(0, 65535, &["0.0.0.0/0"]), udp(0, 65535, &["0.0.0.0/0"])]),
            NC,
            Some("all TCP ports to 0.0.0.0/0; all UDP ports to 0.0.0.0/0"),
        ),
        case("udp with many narrow ports", config((0..100).map(|i| udp(i * 100 + 1, i * 100 + 100, &["0.0.0.0/0"])).collect()), C, None),
        // Section 2, destinations.
        case("legacy ipRanges only", config(vec![json!({"ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"]})]), NC, ALL_V4),
        case("ipv4Ranges only", config(vec![json!({"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]})]), NC, ALL_V4),
        case(
            "ipv4Ranges repeated in ipRanges is named once",
            config(vec![json!({"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]})]),
            NC,
            ALL_V4,
        ),
        case(
            "union of ipv4Ranges and ipRanges",
            config(vec![json!({"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["0.0.0.0/0"]})]),
            NC,
            ALL_V4,
        ),
        case("10.0.0.0/0 is the whole space", config(vec![all(&["10.0.0.0/0"], &[])]), NC, Some("all traffic to 10.0.0.0/0")),
        case("host bits set on /0", config(vec![all(&["10.1.2.3/0"], &[])]), NC, Some("all traffic to 10.1.2.3/0")),
        case("::0/0 is the whole IPv6 space", config(vec![all(&[], &["::0/0"])]), NC, Some("all traffic to ::0/0")),
        case("0:0:0:0:0:0:0:0/0", config(vec![all(&[], &["0:0:0:0:0:0:0:0/0"])]), NC, Some("all traffic to 0:0:0:0:0:0:0:0/0")),
        case(
            "two /1 halves make the whole IPv4 space",
            config(vec![all(&["128.0.0.0/1", "0.0.0.0/1"], &[])]),
            NC,
            Some("all traffic to 0.0.0.0/1, 128.0.0.0/1"),
        ),
        case("one /1 half is not the internet", config(vec![all(&["0.0.0.0/1"], &[])]), C, None),
        case("a /1 and a /2 leave a hole", config(vec![all(&["0.0.0.0/1", "128.0.0.0/2"], &[])]), C, None),
        case("private ranges are restricted", config(vec![all(&["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], &[])]), C, None),
        case(
            "IPv6 halves",
            config(vec![all(&[], &["::/1", "8000::/1"])]),
            NC,
            Some("all traffic to ::/1, 8000::/1"),
        ),
        case(
            "unknown prefix list is restricted",
            config(vec![json!({"ipProtocol": "-1", "prefixListIds": [{"prefixListId": "pl-0123456789abcdef0"}]})]),
            C,
            None,
        ),
        Case {
            prefix_lists: &[("pl-0123456789abcdef0", &["0.0.0.0/0", "10.0.0.0/8"])],
            ..case(
                "prefix list known to hold 0.0.0.0/0",
                config(vec![json!({"ipProtocol": "-1", "prefixListIds": [{"prefixListId": "pl-0123456789abcdef0"}]})]),
                NC,
                Some("all traffic to 0.0.0.0/0 via pl-0123456789abcdef0"),
            )
        },
        Case {
            prefix_lists: &[("pl-0123456789abcdef0", &["10.0.0.0/8"])],
            ..case(
                "prefix list known to hold a private range",
                config(vec![json!({"ipProtocol": "-1", "prefixListIds": [{"prefixListId": "pl-0123456789abcdef0"}]})]),
                C,
                None,
            )
        },
        case(
            "security group references are restricted",
            config(vec![json!({"ipProtocol": "-1", "userIdGroupPairs": [{"groupId": "sg-0fedcba9876543210", "userId": "123456789012"}]})]),
            C,
            None,
        ),
        case("a permission with no destination arrays", config(vec![json!({"ipProtocol": "-1"})]), C, None),
        case("no egress permissions", config(vec![]), C, None),
        case("missing ipPermissionsEgress", json!({"groupId": GROUP}), C, None),
        case("null ipPermissionsEgress", json!({"groupId": GROUP, "ipPermissionsEgress": null}), C, None),
        case(
            "malformed CIDR is named, the others decide",
            config(vec![all(&["0.0.0.0/33", "0.0.0.0/0"], &[])]),
            NC,
            Some("all traffic to 0.0.0.0/0; ignored malformed CIDR \"0.0.0.0/33\""),
        ),
        case(
            "only malformed CIDRs",
            config(vec![all(&["not-a-cidr", " 0.0.0.0/0"], &[])]),
            C,
            Some("ignored malformed CIDRs \" 0.0.0.0/0\", \"not-a-cidr\""),
        ),
        // Section 2, coverage for the group as a whole.
        case(
            "all-traffic halves in separate permissions",
            config(vec![all(&["0.0.0.0/1"], &[]), all(&["128.0.0.0/1"], &[])]),
            NC,
            Some("all traffic to 0.0.0.0/1, 128.0.0.0/1"),
        ),
        case(
            "tcp half plus all-traffic half opens TCP, not all traffic",
            config(vec![tcp(0, 65535, &["0.0.0.0/1"]), all(&["128.0.0.0/1"], &[])]),
            NC,
            Some("all TCP ports to 0.0.0.0/1, 128.0.0.0/1"),
        ),
        case(
            "ports and addresses split together",
            config(vec![tcp(1, 100, &["0.0.0.0/0"]), all(&["0.0.0.0/1"], &[]), tcp(101, 65535, &["128.0.0.0/1"])]),
            NC,
            Some("all TCP ports to 0.0.0.0/0 (several rules together)"),
        ),
        case(
            "narrow rules beside an all-traffic rule are not named",
            config(vec![tcp(443, 443, &["0.0.0.0/0"]), all(&["0.0.0.0/0"], &[]), udp(53, 53, &["8.8.8.8/32"])]),
            NC,
            ALL_V4,
        ),
        // Section 3, IPv6 and CheckIpv6.
        case("IPv6-only all traffic", config(vec![all(&[], &["::/0"])]), NC, Some("all traffic to ::/0")),
        params(case("IPv6-only with CheckIpv6 false", config(vec![all(&[], &["::/0"])]), C, None), json!({"CheckIpv6": "false"})),
        params(
            case("IPv4 still judged with CheckIpv6 false", config(vec![all(&["0.0.0.0/0"], &["::/0"])]), NC, ALL_V4),
            json!({"CheckIpv6": false}),
        ),
        case(
            "both families open",
            config(vec![all(&["0.0.0.0/0"], &["::/0"])]),
            NC,
            Some("all traffic to 0.0.0.0/0; all traffic to ::/0"),
        ),
        case(
            "all traffic on IPv4, all TCP on IPv6",
            config(vec![all(&["0.0.0.0/0"], &[]), perm(json!("tcp"), json!(0), json!(65535), &[], &["::/0"])]),
            NC,
            Some("all traffic to 0.0.0.0/0; all TCP ports to ::/0"),
        ),
        case(
            "icmpv6 and https to ::/0",
            config(vec![perm(json!("icmpv6"), json!(-1), json!(-1), &[], &["::/0"]), perm(json!("tcp"), json!(443), json!(443), &[], &["::/0"])]),
            C,
            None,
        ),
        // Section 3, NOT_APPLICABLE.
        case(
            "deleted item",
            json!({"resourceType": "AWS::EC2::SecurityGroup", "resourceId": GROUP, "configurationItemStatus": "ResourceDeleted", "configuration": null}),
            NA,
            Some("Configuration item status is ResourceDeleted"),
        ),
        case(
            "not recorded",
            json!({"resourceType": "AWS::EC2::SecurityGroup", "resourceId": GROUP, "configurationItemStatus": "ResourceNotRecorded"}),
            NA,
            Some("Configuration item status is ResourceNotRecorded"),
        ),
        case(
            "deleted and not recorded",
            json!({"resourceType": "AWS::EC2::SecurityGroup", "resourceId": GROUP, "configurationItemStatus": "ResourceDeletedNotRecorded"}),
            NA,
            Some("Configuration item status is ResourceDeletedNotRecorded"),
        ),
        case(
            "event left scope",
            json!({
                "invokingEvent": json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": item(config(open()))}).to_string(),
                "ruleParameters": "{}", "resultToken": "TESTMODE", "eventLeftScope": true
            }),
            NA,
            Some("The resource left the rule's scope"),
        ),
        case(
            "another resource type",
            json!({"resourceType": "AWS::EC2::Instance", "resourceId": "i-0123456789abcdef0", "configurationItemStatus": "OK", "configuration": {}}),
            NA,
            Some("AWS::EC2::Instance is not evaluated by this rule (only AWS::EC2::SecurityGroup)"),
        ),
        case("ResourceDiscovered is evaluated", with(item(config(open())), "configurationItemStatus", json!("ResourceDiscovered")), NC, ALL_V4),
        // Section 5, exemptions.
        params(
            case("exempt by group id", config(open()), C, Some("Exempt: group sg-0123456789abcdef0 is listed in ExemptGroupIds (all traffic to 0.0.0.0/0)")),
            json!({"ExemptGroupIds": "sg-11111111, sg-0123456789abcdef0 "}),
        ),
        params(
            case("exempt by VPC id", config(open()), C, Some("Exempt: VPC vpc-0a1b2c3d is listed in ExemptVpcIds (all traffic to 0.0.0.0/0)")),
            json!({"ExemptVpcIds": "vpc-0a1b2c3d"}),
        ),
        params(case("another VPC is not exempt", config(open()), NC, ALL_V4), json!({"ExemptVpcIds": "vpc-0fffffff"})),
        case(
            "permanent tag exemption quotes the reason",
            tagged("sg-egress-exempt", "NAT instance, SEC-1234"),
            C,
            Some("Exempt: tag sg-egress-exempt=\"NAT instance, SEC-1234\" (all traffic to 0.0.0.0/0)"),
        ),
        case(
            "dated exemption in the future",
            tagged("sg-egress-exempt", "2027-01-31 SEC-1234"),
            C,
            Some("Exempt: tag sg-egress-exempt=\"2027-01-31 SEC-1234\" holds through 2027-01-31 (all traffic to 0.0.0.0/0)"),
        ),
        case(
            "dated exemption holds through its day",
            tagged("sg-egress-exempt", "2026-11-26"),
            C,
            Some("Exempt: tag sg-egress-exempt=\"2026-11-26\" holds through 2026-11-26 (all traffic to 0.0.0.0/0)"),
        ),
        case(
            "dated exemption expired",
            tagged("sg-egress-exempt", "2026-11-25 SEC-1234"),
            NC,
            Some("Exemption held through 2026-11-25, now expired: all traffic to 0.0.0.0/0 (tag sg-egress-exempt=\"2026-11-25 SEC-1234\")"),
        ),
        case(
            "a date that does not exist is not an exemption",
            tagged("sg-egress-exempt", "2026-02-30 SEC-1"),
            NC,
            Some("all traffic to 0.0.0.0/0; exemption not applied, tag sg-egress-exempt=\"2026-02-30 SEC-1\" does not start with a valid YYYY-MM-DD date"),
        ),
        case(
            "tag in configuration.tags only",
            config(vec![all(&["0.0.0.0/0"], &[])]).as_object().cloned().map(|mut o| {
                o.insert("tags".into(), json!([{"key": "sg-egress-exempt", "value": "proxy"}]));
                Value::Object(o)
            }).unwrap(),
            C,
            Some("Exempt: tag sg-egress-exempt=\"proxy\" (all traffic to 0.0.0.0/0)"),
        ),
        params(
            case("custom tag key", tagged("security/egress-exception", "approved"), C, Some("Exempt: tag security/egress-exception=\"approved\" (all traffic to 0.0.0.0/0)")),
            json!({"ExemptTagKey": "security/egress-exception"}),
        ),
        params(case("default tag key ignored under a custom key", tagged("sg-egress-exempt", "x"), NC, ALL_V4), json!({"ExemptTagKey": "other"})),
        params(case("empty ExemptTagKey turns tag exemptions off", tagged("sg-egress-exempt", "x"), NC, ALL_V4), json!({"ExemptTagKey": ""})),
        case(
            "exempt and compliant anyway says nothing",
            with(item(config(vec![tcp(443, 443, &["0.0.0.0/0"])])), "tags", json!({"sg-egress-exempt": "x"})),
            C,
            None,
        ),
        params(
            case(
                "exempt group id wins over an expired tag",
                tagged("sg-egress-exempt", "2020-01-01"),
                C,
                Some("Exempt: group sg-0123456789abcdef0 is listed in ExemptGroupIds (all traffic to 0.0.0.0/0)"),
            ),
            json!({"ExemptGroupIds": "sg-0123456789abcdef0"}),
        ),
        // Section 7, used or unused.
        params(case("relationships naming only the VPC prove nothing", vpc_only(), NC, ALL_V4), json!({"IgnoreUnusedGroups": "TRUE"})),
        case("unused or not, judged by default", vpc_only(), NC, ALL_V4),
        params(case("unknown usage counts as used", config(open()), NC, ALL_V4), json!({"IgnoreUnusedGroups": true})),
        params(case("an interface relationship proves use", item(config(open())), NC, ALL_V4), json!({"IgnoreUnusedGroups": true})),
        params(
            case("an instance relationship proves use", with(item(config(open())), "relationships", json!([{"resourceType": "AWS::EC2::Instance", "resourceId": "i-0123456789abcdef0", "name": "Is associated with Instance"}])), NC, ALL_V4),
            json!({"IgnoreUnusedGroups": true}),
        ),
        params(case("empty relationships prove nothing", with(item(config(open())), "relationships", json!([])), NC, ALL_V4), json!({"IgnoreUnusedGroups": true})),
        params(
            interfaces(case("no interface lists it: unused", vpc_only(), NA, Some("Not attached to any network interface (IgnoreUnusedGroups is true)")), listing(&["sg-0fffffffffffffff0"])),
            json!({"IgnoreUnusedGroups": true}),
        ),
        params(
            interfaces(case("an interface lists it: used", vpc_only(), NC, ALL_V4), listing(&[GROUP])),
            json!({"IgnoreUnusedGroups": true}),
        ),
        params(
            interfaces(case("no interface listed, but a relationship proves use", item(config(open())), NC, ALL_V4), listing(&[])),
            json!({"IgnoreUnusedGroups": true}),
        ),
        interfaces(case("an interface listing changes nothing by default", vpc_only(), NC, ALL_V4), listing(&[])),
        // Section 3, annotation length.
        case(
            "long annotation is cut at 256 characters",
            config(vec![all(&many_refs, &[])]),
            NC,
            Some(leak(format!("all traffic to {}", many_cidrs.join(", ")).chars().take(255).collect::<String>() + "…")),
        ),
        case(
            "an annotation with emoji is cut at 256 UTF-16 units",
            with(item(config(open())), "tags", json!({"sg-egress-exempt": format!("2020-01-01 {}", "🔥".repeat(150))})),
            NC,
            Some(leak(format!(
                "Exemption held through 2020-01-01, now expired: all traffic to 0.0.0.0/0 (tag sg-egress-exempt=\"2020-01-01 {}…",
                "🔥".repeat((256 - 1 - "Exemption held through 2020-01-01, now expired: all traffic to 0.0.0.0/0 (tag sg-egress-exempt=\"2020-01-01 ".len()) / 2)
            ))),
        ),
    ]
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn every_spec_case() {
    let cases = cases();
    assert!(cases.len() >= 60, "the table has {} cases", cases.len());
    eprintln!("{} SPEC cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let mut prefix_lists = KnownPrefixLists::new();
        for (id, entries) in c.prefix_lists {
            prefix_lists.insert(id, entries).unwrap();
        }
        let parameters = Parameters::from_value(&c.parameters).unwrap();
        let mut documents = read_documents(c.input.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        if let Some(listing) = &c.interfaces {
            let mut in_use = GroupsInUse::new();
            read_network_interfaces(listing.to_string().as_bytes(), &mut in_use).unwrap();
            for group in documents
                .iter_mut()
                .flat_map(|d| &mut d.resources)
                .filter_map(|r| r.group.as_mut())
            {
                in_use.apply(group);
            }
        }
        let evaluations: Vec<_> = documents
            .iter()
            .flat_map(|d| {
                let p = d
                    .rule_parameters
                    .as_deref()
                    .map(|t| Parameters::from_json_text(t).unwrap())
                    .filter(|_| c.parameters == json!({}));
                evaluate_document(d, p.as_ref().unwrap_or(&parameters), &prefix_lists, now())
            })
            .collect();
        assert_eq!(evaluations.len(), 1, "{}", c.name);
        let e = &evaluations[0];
        if e.compliance_type != c.compliance || e.annotation.as_deref() != c.annotation {
            failures.push(format!(
                "{}:\n  expected {:?} {:?}\n  got      {:?} {:?}",
                c.name, c.compliance, c.annotation, e.compliance_type, e.annotation
            ));
        }
        if let Some(a) = &e.annotation {
            assert!(
                (1..=256).contains(&a.chars().count()) && a.encode_utf16().count() <= 256,
                "{}: annotation length {} characters, {} UTF-16 units",
                c.name,
                a.chars().count(),
                a.encode_utf16().count()
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The one evaluation of an input, with default parameters.
fn evaluate_with_defaults(input: &Value) -> sg_egress_core::Evaluation {
    let documents = read_documents(input.to_string().as_bytes()).unwrap();
    evaluate_document(
        &documents[0],
        &Parameters::default(),
        &KnownPrefixLists::new(),
        now(),
    )
    .remove(0)
}

#[test]
fn ordering_timestamp_and_resource_id() {
    let e = &evaluate_with_defaults(&item(config(vec![])));
    assert_eq!(
        e.ordering_timestamp,
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 14, 27).unwrap()
            + chrono::Duration::milliseconds(318)
    );
    assert_eq!(e.compliance_resource_id, GROUP);
    assert_eq!(e.compliance_resource_type, "AWS::EC2::SecurityGroup");
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(
        json,
        json!({
            "ComplianceResourceType": "AWS::EC2::SecurityGroup",
            "ComplianceResourceId": GROUP,
            "ComplianceType": "COMPLIANT",
            "OrderingTimestamp": "2026-11-20T09:14:27.318Z"
        })
    );
    // A bare configuration carries no time: the time of evaluation is used.
    let e = &evaluate_with_defaults(&config(vec![]));
    assert_eq!(e.ordering_timestamp, now());
}

#[test]
fn annotation_cut_never_splits_a_character() {
    let long_reason = "é".repeat(300);
    let input = with(
        item(config(vec![all(&["0.0.0.0/0"], &[])])),
        "tags",
        json!({"sg-egress-exempt": long_reason}),
    );
    let e = &evaluate_with_defaults(&input);
    let annotation = e.annotation.as_deref().unwrap();
    assert_eq!(annotation.chars().count(), 256);
    assert!(annotation.ends_with("é…"));
    assert!(annotation.starts_with("Exempt: tag sg-egress-exempt=\"éé"));
}
