//! An independent oracle for verdicts, written from SPEC.md §2 and §3 alone,
//! with none of the crate's code: it decides by brute force over a reduced
//! universe, and the evaluator must agree with it on random groups.
//!
//! The reduction is exact, not sampled. Ports: every rule's range starts and
//! ends on the edges of five equal blocks of 1..=65535 (13,107 ports each),
//! plus port 0, so every port of a block is covered alike and checking one
//! port per block checks all 65,535. Addresses: every CIDR block has a prefix
//! of at most 3 bits, so it covers each of the eight /3 blocks of its family
//! wholly or not at all, and checking the eight covers the whole space.
//! Within that universe the oracle walks SPEC §2 literally: protocol names
//! and numbers, missing/null/-1 ports, `fromPort > toPort`, legacy
//! `ipRanges` beside `ipv4Ranges`, CIDRs as ranges (`10.0.0.0/0` is the whole
//! space), malformed CIDRs ignored, prefix lists and group references
//! restricted, all traffic vs all TCP/UDP ports per family, `CheckIpv6`.

use proptest::prelude::*;
use serde_json::{json, Value};
use sg_egress_core::read_documents;
use sg_egress_core::{evaluate_document, Compliance, KnownPrefixLists, Parameters};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The first port of each of the five blocks of 1..=65535, and its last.
const BLOCK: u32 = 13_107;
fn block_of(port: u32) -> usize {
    ((port - 1) / BLOCK) as usize
}

/// SPEC §2, protocol: what a protocol value means.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Meaning {
    All,
    Tcp,
    Udp,
    PortLess,
}

fn meaning(protocol: &Value) -> Meaning {
    let text = match protocol {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    };
    match text.as_str() {
        "-1" | "all" => Meaning::All,
        "tcp" | "6" => Meaning::Tcp,
        "udp" | "17" => Meaning::Udp,
        _ => Meaning::PortLess,
    }
}

/// SPEC §2, ports: missing, null or -1 opens the range at that end; numbers
/// may be integers, integral floats or strings.
fn port(value: Option<&Value>, open_end: u32) -> u32 {
    let number = match value {
        None | Some(Value::Null) => return open_end,
        Some(Value::String(s)) => s.parse::<f64>().unwrap(),
        Some(v) => v.as_f64().unwrap(),
    };
    if number == -1.0 {
        open_end
    } else {
        number as u32
    }
}

/// The /3 blocks (0..8) a CIDR text covers wholly, with its family; `None`
/// for text that is not a CIDR block. Parsed with the standard library only.
fn cells(text: &str) -> Option<(bool, Vec<usize>)> {
    let (address, prefix) = text.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    let (ipv6, top) = if let Ok(a) = address.parse::<Ipv4Addr>() {
        if prefix > 32 {
            return None;
        }
        (false, u32::from(a) >> 29)
    } else if let Ok(a) = address.parse::<Ipv6Addr>() {
        if prefix > 128 {
            return None;
        }
        (true, (u128::from(a) >> 125) as u32)
    } else {
        return None;
    };
    assert!(
        prefix <= 3,
        "the generator keeps prefixes within the reduced universe"
    );
    let covered = (0..8usize)
        .filter(|&cell| (cell as u32) >> (3 - prefix) == top >> (3 - prefix))
        .collect();
    Some((ipv6, covered))
}

/// SPEC §2 and §3: NON_COMPLIANT when all traffic, all TCP ports or all UDP
/// ports are open to the whole IPv4 space, or the whole IPv6 space when
/// `check_ipv6`. Written index by index, as the SPEC reads, on purpose.
#[allow(clippy::needless_range_loop)]
fn oracle(egress: &[Value], check_ipv6: bool) -> Compliance {
    // covered[family][what][port block][cell]: what 0 = all traffic, 1 = tcp, 2 = udp.
    let mut covered = [[[[false; 8]; 5]; 3]; 2];
    for permission in egress {
        let meaning = meaning(&permission["ipProtocol"]);
        let (from, to) = match meaning {
            Meaning::Tcp | Meaning::Udp => (
                port(permission.get("fromPort"), 0),
                port(permission.get("toPort"), 65535),
            ),
            _ => (0, 65535),
        };
        let mut texts: Vec<&str> = Vec::new();
        for key in ["ipv4Ranges", "ipv6Ranges"] {
            for range in permission[key].as_array().into_iter().flatten() {
                texts.extend(range["cidrIp"].as_str());
                texts.extend(range["cidrIpv6"].as_str());
            }
        }
        for text in permission["ipRanges"].as_array().into_iter().flatten() {
            texts.extend(text.as_str());
        }
        // Prefix lists and group references are restricted: they add nothing.
        for text in texts {
            let Some((ipv6, cells)) = cells(text) else {
                continue; // malformed: no destination
            };
            let family = usize::from(ipv6);
            for block in 0..5 {
                let (first, last) = (block as u32 * BLOCK + 1, (block as u32 + 1) * BLOCK);
                let ports_covered = from <= first && last <= to;
                for &cell in &cells {
                    match meaning {
                        Meaning::All => {
                            for what in 0..3 {
                                covered[family][what][block][cell] = true;
                            }
                        }
                        Meaning::Tcp if ports_covered => covered[family][1][block][cell] = true,
                        Meaning::Udp if ports_covered => covered[family][2][block][cell] = true,
                        _ => {}
                    }
                }
            }
        }
    }
    let families = if check_ipv6 { 2 } else { 1 };
    let open = (0..families).any(|family| {
        (0..3).any(|what| {
            (0..5).all(|block| {
                debug_assert_eq!(block_of(block as u32 * BLOCK + 1), block);
                covered[family][what][block].iter().all(|c| *c)
            })
        })
    });
    if open {
        Compliance::NonCompliant
    } else {
        Compliance::Compliant
    }
}

const IPV4: &[&str] = &[
    "0.0.0.0/0",
    "10.0.0.0/0",
    "0.0.0.0/1",
    "128.0.0.0/1",
    "0.0.0.0/2",
    "64.0.0.0/2",
    "128.0.0.0/2",
    "192.0.0.0/2",
    "0.0.0.0/3",
    "32.0.0.0/3",
    "96.0.0.0/3",
    "224.0.0.0/3",
    "0.0.0.0/33",
    "not-a-cidr",
];
const IPV6: &[&str] = &[
    "::/0",
    "::0/0",
    "0:0:0:0:0:0:0:0/0",
    "::/1",
    "8000::/1",
    "4000::/2",
    "c000::/2",
    "2000::/3",
    "e000::/3",
    "::/129",
];
const PROTOCOLS: &[&str] = &[
    "-1", "all", "ALL", "tcp", "TCP", "6", "udp", "17", "icmp", "1", "58", "icmpv6", "47",
];

fn arb_port(edges: &'static [i64]) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        Just(Some(json!(-1))),
        prop::sample::select(edges).prop_map(|p| Some(json!(p))),
        prop::sample::select(edges).prop_map(|p| Some(json!(p as f64))),
        prop::sample::select(edges).prop_map(|p| Some(json!(p.to_string()))),
    ]
}

fn arb_permission() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(PROTOCOLS),
        any::<bool>(),
        arb_port(&[0, 1, 13_108, 26_215, 39_322, 52_429]),
        arb_port(&[0, 13_107, 26_214, 39_321, 52_428, 65_535]),
        prop::collection::vec(prop::sample::select(IPV4), 0..3),
        prop::collection::vec(prop::sample::select(IPV4), 0..2),
        prop::collection::vec(prop::sample::select(IPV6), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(protocol, numeric, from, to, v4, legacy, v6, list, pair)| {
            let protocol = match (numeric, protocol.parse::<i64>()) {
                (true, Ok(n)) => json!(n),
                _ => json!(protocol),
            };
            let mut p = json!({
                "ipProtocol": protocol,
                "ipv4Ranges": v4.iter().map(|c| json!({"cidrIp": c})).collect::<Vec<_>>(),
                "ipRanges": legacy,
                "ipv6Ranges": v6.iter().map(|c| json!({"cidrIpv6": c})).collect::<Vec<_>>(),
                "prefixListIds": if list { json!([{"prefixListId": "pl-0abc1234"}]) } else { json!([]) },
                "userIdGroupPairs": if pair { json!([{"groupId": "sg-0fffffff"}]) } else { json!([]) },
            });
            if let Some(from) = from {
                p["fromPort"] = from;
            }
            if let Some(to) = to {
                p["toPort"] = to;
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_evaluator_agrees_with_the_oracle(
        egress in prop::collection::vec(arb_permission(), 0..6),
        check_ipv6 in any::<bool>(),
    ) {
        let configuration = json!({"groupId": "sg-0123456789abcdef0", "ipPermissionsEgress": egress});
        let parameters = Parameters::from_value(&json!({"CheckIpv6": check_ipv6})).unwrap();
        let documents = read_documents(configuration.to_string().as_bytes()).unwrap();
        let evaluations = evaluate_document(&documents[0], &parameters, &KnownPrefixLists::new(), chrono::Utc::now());
        prop_assert_eq!(evaluations.len(), 1);
        let expected = oracle(&egress, check_ipv6);
        prop_assert_eq!(
            evaluations[0].compliance_type,
            expected,
            "annotation {:?} for {}",
            evaluations[0].annotation,
            configuration
        );
    }
}

/// The oracle itself, on cases whose answer SPEC.md states outright.
#[test]
fn the_oracle_follows_spec_examples() {
    let all = |cidrs: &[&str]| json!({"ipProtocol": "-1", "ipRanges": cidrs});
    let tcp = |from: i64, to: i64, cidr: &str| json!({"ipProtocol": "tcp", "fromPort": from, "toPort": to, "ipRanges": [cidr]});
    let nc = Compliance::NonCompliant;
    let c = Compliance::Compliant;
    for (egress, check_ipv6, expected) in [
        (vec![all(&["0.0.0.0/0"])], true, nc),
        (vec![all(&["10.0.0.0/0"])], true, nc),
        (vec![all(&["0.0.0.0/1", "128.0.0.0/1"])], true, nc),
        (vec![all(&["0.0.0.0/1"])], true, c),
        (
            vec![tcp(1, 26214, "0.0.0.0/0"), tcp(26215, 65535, "0.0.0.0/0")],
            true,
            nc,
        ),
        (
            vec![tcp(0, 65535, "0.0.0.0/1"), tcp(0, 65535, "128.0.0.0/1")],
            true,
            nc,
        ),
        (vec![tcp(2, 65535, "0.0.0.0/0")], true, c),
        (vec![tcp(65535, 0, "0.0.0.0/0")], true, c),
        (
            vec![json!({"ipProtocol": "icmp", "ipRanges": ["0.0.0.0/0"]})],
            true,
            c,
        ),
        (
            vec![json!({"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "::/0"}]})],
            true,
            nc,
        ),
        (
            vec![json!({"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "::/0"}]})],
            false,
            c,
        ),
    ] {
        assert_eq!(oracle(&egress, check_ipv6), expected, "{egress:?}");
    }
}
