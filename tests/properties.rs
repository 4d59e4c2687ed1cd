//! Property tests: the coverage sweep against brute force on small spaces, and
//! the invariants a user relies on (order of rules never matters, restricted
//! rules never raise a finding, every input shape of a group agrees).

use proptest::prelude::*;
use serde_json::{json, Value};
use sg_egress_core::coverage::{covers_everything, Rect};
use sg_egress_core::read_documents;
use sg_egress_core::{evaluate_document, Compliance, Evaluation, KnownPrefixLists, Parameters};

fn arb_rect(max_port: u32, max_address: u128) -> impl Strategy<Value = Rect> {
    (
        0..=max_port + 1,
        0..=max_port + 1,
        0..=max_address,
        0..=max_address,
    )
        .prop_map(|(a, b, c, d)| Rect {
            first_port: a,
            last_port: b,
            first_address: c.min(d),
            last_address: c.max(d),
        })
}

fn brute_force(rects: &[Rect], max_port: u32, max_address: u128) -> bool {
    (1..=max_port).all(|port| {
        (0..=max_address).all(|address| {
            rects.iter().any(|r| {
                r.first_port <= port
                    && port <= r.last_port
                    && r.first_address <= address
                    && address <= r.last_address
            })
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sweep_agrees_with_brute_force(rects in proptest::collection::vec(arb_rect(8, 15), 0..12)) {
        prop_assert_eq!(covers_everything(&rects, 1, 8, 15), brute_force(&rects, 8, 15));
    }

    #[test]
    fn sweep_agrees_with_brute_force_on_covering_sets(
        rects in proptest::collection::vec(arb_rect(6, 7), 0..6),
        // Rectangles that often tile the space, so "covered" is common too.
        tiles in proptest::collection::vec((1u32..=6, 0u128..=7), 0..8),
    ) {
        let mut all = rects.clone();
        for (split_port, split_address) in tiles {
            all.push(Rect { first_port: 1, last_port: split_port, first_address: 0, last_address: split_address });
            all.push(Rect { first_port: split_port, last_port: 6, first_address: split_address, last_address: 7 });
            all.push(Rect { first_port: 1, last_port: 6, first_address: 0, last_address: split_address });
        }
        prop_assert_eq!(covers_everything(&all, 1, 6, 7), brute_force(&all, 6, 7));
    }
}

/// A permission in a neutral form, rendered into each input shape below.
#[derive(Debug, Clone)]
struct Perm {
    protocol: &'static str,
    ports: Option<(i64, i64)>,
    v4: Vec<&'static str>,
    v6: Vec<&'static str>,
    prefix_lists: Vec<&'static str>,
    groups: Vec<&'static str>,
}

const V4: &[&str] = &[
    "0.0.0.0/0",
    "0.0.0.0/1",
    "128.0.0.0/1",
    "10.0.0.0/8",
    "128.0.0.0/2",
    "192.0.0.0/2",
    "203.0.113.0/24",
    "10.0.0.0/0",
    "300.0.0.0/8",
];
const V6: &[&str] = &["::/0", "::/1", "8000::/1", "2001:db8::/32", "::0/0"];
const PROTOCOLS: &[&str] = &["-1", "tcp", "udp", "icmp", "icmpv6", "6", "17", "47", "all"];
const PORTS: &[(i64, i64)] = &[
    (0, 65535),
    (1, 65535),
    (1, 32767),
    (32768, 65535),
    (443, 443),
    (2, 65535),
    (-1, -1),
    (1024, 65535),
    (1, 1023),
];

fn arb_perm() -> impl Strategy<Value = Perm> {
    (
        proptest::sample::select(PROTOCOLS),
        proptest::option::of(proptest::sample::select(PORTS)),
        proptest::collection::vec(proptest::sample::select(V4), 0..3),
        proptest::collection::vec(proptest::sample::select(V6), 0..2),
        proptest::collection::vec(
            proptest::sample::select(&["pl-0abc1234", "pl-0def5678"][..]),
            0..2,
        ),
        proptest::collection::vec(
            proptest::sample::select(&["sg-0fedcba9876543210"][..]),
            0..2,
        ),
    )
        .prop_map(|(protocol, ports, v4, v6, prefix_lists, groups)| Perm {
            protocol,
            ports,
            v4,
            v6,
            prefix_lists,
            groups,
        })
}

/// A permission that is restricted whatever else the group holds: only
/// references to groups or unknown prefix lists, or no ports to speak of.
fn arb_restricted_perm() -> impl Strategy<Value = Perm> {
    prop_oneof![
        arb_perm().prop_map(|mut p| {
            p.v4.clear();
            p.v6.clear();
            p.prefix_lists = vec!["pl-0unknown0"];
            p
        }),
        arb_perm().prop_map(|mut p| {
            p.protocol = ["icmp", "icmpv6", "47", "50"][p.v4.len() % 4];
            p
        }),
        arb_perm().prop_map(|mut p| {
            p.v4 = vec!["0.0.0.0/33", "garbage"];
            p.v6 = vec!["::/200"];
            p.prefix_lists.clear();
            p
        }),
    ]
}

fn camel(p: &Perm, float_ports: bool) -> Value {
    let port = |n: i64| {
        if float_ports {
            json!(n as f64)
        } else {
            json!(n)
        }
    };
    json!({
        "ipProtocol": p.protocol,
        "fromPort": p.ports.map(|(a, _)| port(a)),
        "toPort": p.ports.map(|(_, b)| port(b)),
        "ipv4Ranges": p.v4.iter().map(|c| json!({"cidrIp": c})).collect::<Vec<_>>(),
        "ipRanges": p.v4,
        "ipv6Ranges": p.v6.iter().map(|c| json!({"cidrIpv6": c})).collect::<Vec<_>>(),
        "prefixListIds": p.prefix_lists.iter().map(|id| json!({"prefixListId": id})).collect::<Vec<_>>(),
        "userIdGroupPairs": p.groups.iter().map(|g| json!({"groupId": g, "userId": "123456789012"})).collect::<Vec<_>>(),
    })
}

fn pascal(p: &Perm) -> Value {
    let mut v = json!({
        "IpProtocol": p.protocol,
        "IpRanges": p.v4.iter().map(|c| json!({"CidrIp": c})).collect::<Vec<_>>(),
        "Ipv6Ranges": p.v6.iter().map(|c| json!({"CidrIpv6": c})).collect::<Vec<_>>(),
        "PrefixListIds": p.prefix_lists.iter().map(|id| json!({"PrefixListId": id})).collect::<Vec<_>>(),
        "UserIdGroupPairs": p.groups.iter().map(|g| json!({"GroupId": g, "UserId": "123456789012"})).collect::<Vec<_>>(),
    });
    if let Some((a, b)) = p.ports {
        v["FromPort"] = json!(a);
        v["ToPort"] = json!(b);
    }
    v
}

const GROUP: &str = "sg-0123456789abcdef0";

fn configuration(perms: &[Perm], float_ports: bool) -> Value {
    json!({
        "groupId": GROUP, "vpcId": "vpc-0a1b2c3d", "groupName": "g",
        "ipPermissionsEgress": perms.iter().map(|p| camel(p, float_ports)).collect::<Vec<_>>(),
        "tags": [{"key": "Name", "value": "g"}],
    })
}

fn event_item(perms: &[Perm]) -> Value {
    json!({
        "configurationItemCaptureTime": "2026-11-20T09:14:27.318Z", "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": GROUP, "tags": {"Name": "g"},
        "relationships": [{"resourceType": "AWS::EC2::NetworkInterface", "resourceId": "eni-0a1b2c3d4e5f60718", "name": "Is associated with NetworkInterface"}],
        "configuration": configuration(perms, false),
    })
}

fn api_item(perms: &[Perm]) -> Value {
    json!({
        "configurationItemCaptureTime": 1795166067.318, "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": GROUP, "accountId": "123456789012",
        "configuration": configuration(perms, false).to_string(),
    })
}

/// The same group in every shape the tool reads.
fn all_shapes(perms: &[Perm]) -> Vec<(&'static str, Value)> {
    let sg = json!({
        "GroupId": GROUP, "VpcId": "vpc-0a1b2c3d", "Tags": [{"Key": "Name", "Value": "g"}],
        "IpPermissionsEgress": perms.iter().map(pascal).collect::<Vec<_>>(),
    });
    let notification = json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": event_item(perms), "notificationCreationTime": "2026-11-20T09:15:00Z"});
    vec![
        ("configuration", configuration(perms, false)),
        ("event item", event_item(perms)),
        ("api item", api_item(perms)),
        ("history", json!({"configurationItems": [api_item(perms)]})),
        (
            "batch",
            json!({"baseConfigurationItems": [api_item(perms)], "unprocessedResourceKeys": []}),
        ),
        (
            "select",
            json!({"Results": [json!({"resourceId": GROUP, "configuration": configuration(perms, true)}).to_string()]}),
        ),
        ("list", json!([event_item(perms)])),
        ("notification", notification.clone()),
        (
            "lambda event",
            json!({"invokingEvent": notification.to_string(), "ruleParameters": "{}", "resultToken": "TESTMODE"}),
        ),
        ("describe", json!({"SecurityGroups": [sg.clone()]})),
        ("security group", sg),
    ]
}

fn evaluate_value(value: &Value, parameters: &Parameters) -> Evaluation {
    let documents = read_documents(value.to_string().as_bytes()).expect("valid input");
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
        .unwrap()
        .to_utc();
    let mut evaluations =
        evaluate_document(&documents[0], parameters, &KnownPrefixLists::new(), now);
    assert_eq!(evaluations.len(), 1);
    evaluations.remove(0)
}

fn verdict(perms: &[Perm]) -> (Compliance, Option<String>) {
    let e = evaluate_value(&configuration(perms, false), &Parameters::default());
    (e.compliance_type, e.annotation)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn order_of_rules_never_matters(perms in proptest::collection::vec(arb_perm(), 0..7), seed in any::<u64>()) {
        let mut shuffled = perms.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(verdict(&perms), verdict(&shuffled));
    }

    #[test]
    fn a_restricted_rule_never_raises_a_finding(
        perms in proptest::collection::vec(arb_perm(), 0..6),
        extra in arb_restricted_perm(),
        at in any::<prop::sample::Index>(),
    ) {
        let before = verdict(&perms);
        let mut more = perms.clone();
        more.insert(at.index(perms.len() + 1), extra);
        let after = verdict(&more);
        prop_assert_eq!(before.0, after.0);
        if before.0 == Compliance::NonCompliant {
            // The same findings; only a note on malformed CIDRs may be added.
            let findings = |a: &Option<String>| a.as_deref().unwrap_or("").split("; ignored malformed").next().unwrap_or("").to_string();
            prop_assert_eq!(findings(&before.1), findings(&after.1));
        }
    }

    #[test]
    fn adding_a_rule_never_closes_a_group(perms in proptest::collection::vec(arb_perm(), 0..6), extra in arb_perm()) {
        let before = verdict(&perms).0;
        let mut more = perms.clone();
        more.push(extra);
        if before == Compliance::NonCompliant {
            prop_assert_eq!(verdict(&more).0, Compliance::NonCompliant);
        }
    }

    #[test]
    fn every_shape_of_a_group_gives_the_same_verdict(perms in proptest::collection::vec(arb_perm(), 0..6), check_ipv6 in any::<bool>()) {
        let parameters = Parameters { check_ipv6, ..Parameters::default() };
        let shapes = all_shapes(&perms);
        let reference = evaluate_value(&shapes[0].1, &parameters);
        for (name, value) in &shapes[1..] {
            let e = evaluate_value(value, &parameters);
            prop_assert_eq!(&e.compliance_resource_id, &reference.compliance_resource_id, "{}", name);
            prop_assert_eq!(e.compliance_type, reference.compliance_type, "{}", name);
            prop_assert_eq!(&e.annotation, &reference.annotation, "{}", name);
        }
    }
}

/// Ports in every spelling the inputs use.
fn port_value(n: i64, style: u8) -> Value {
    match style % 3 {
        0 => json!(n),
        1 => json!(n as f64),
        _ => json!(n.to_string()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// One item, spelled every way AWS spells it (ports as integers, floats
    /// or strings; `configuration` as an object or as JSON text; the capture
    /// time as ISO-8601 or epoch seconds; members in any order; as one item,
    /// in a list, or in GetResourceConfigHistory output), reads as the same
    /// resource, whether or not it is a current group in scope.
    #[test]
    fn every_spelling_of_an_item_reads_alike(
        perms in proptest::collection::vec(arb_perm(), 0..6),
        style in any::<u8>(),
        status in proptest::sample::select(&["OK", "ResourceDiscovered", "ResourceDeleted", "ResourceNotRecorded"][..]),
        relationships in any::<Option<bool>>(),
        tagged in any::<bool>(),
        resource_type in proptest::sample::select(&["AWS::EC2::SecurityGroup", "AWS::EC2::Instance"][..]),
    ) {
        let egress: Vec<Value> = perms
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut v = camel(p, false);
                if let Some((a, b)) = p.ports {
                    v["fromPort"] = port_value(a, style.wrapping_add(i as u8));
                    v["toPort"] = port_value(b, style);
                }
                v
            })
            .collect();
        let mut item = json!({
            "configurationItemCaptureTime": "2026-11-20T09:14:27.318Z", "configurationItemStatus": status,
            "resourceType": resource_type, "resourceId": GROUP,
            "configuration": {"groupId": GROUP, "vpcId": "vpc-0a1b2c3d", "ipPermissionsEgress": egress,
                              "tags": [{"key": "Name", "value": "g"}]},
        });
        if tagged {
            item["tags"] = json!({"sg-egress-exempt": "2026-12-31 proxy", "Name": null});
        }
        if let Some(attached) = relationships {
            let kind = if attached { "AWS::EC2::NetworkInterface" } else { "AWS::EC2::VPC" };
            item["relationships"] = json!([{"resourceType": kind, "resourceId": "x"}]);
        }
        let reference = read_documents(item.to_string().as_bytes()).expect("a valid item");
        let reference: Vec<_> = reference.into_iter().flat_map(|d| d.resources).collect();
        prop_assert_eq!(reference.len(), 1);
        let mut encoded = item.clone();
        encoded["configuration"] = json!(item["configuration"].to_string());
        encoded["configurationItemCaptureTime"] = json!(1795166067.318);
        // serde_json keeps members in key order: reversing them changes the order read.
        let reversed: serde_json::Map<String, Value> = item.as_object().unwrap().clone().into_iter().rev().collect();
        for spelling in [
            encoded.to_string(),
            Value::Object(reversed).to_string(),
            format!("[{item}]"),
            json!({"configurationItems": [encoded.clone(), item.clone()]}).to_string(),
        ] {
            let read: Vec<_> = read_documents(spelling.as_bytes())
                .expect("a valid item")
                .into_iter()
                .flat_map(|d| d.resources)
                .collect();
            prop_assert!(!read.is_empty());
            for resource in &read {
                prop_assert_eq!(resource, &reference[0], "{}", spelling);
            }
        }
    }
}
