//! Micro-benchmarks: parse + evaluate from raw bytes, and the coverage
//! arithmetic alone. `cargo bench --no-default-features --bench evaluate`.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use sg_egress_core::coverage::{covers_everything, Rect};
use sg_egress_core::read_documents;
use sg_egress_core::{evaluate_document, KnownPrefixLists, Parameters};
use std::hint::black_box;

/// A typical Config item: default egress, a few ingress rules.
pub fn typical_item() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/item-event-form.json"
    ))
    .unwrap()
}

/// A group with 1,000 egress permissions of mixed CIDRs, ports and families.
pub fn large_group() -> Vec<u8> {
    let egress: Vec<Value> = (0..1000u32)
        .map(|i| {
            let port = (i * 61) % 65000;
            match i % 4 {
                0 => json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port + 50, "ipv4Ranges": [{"cidrIp": format!("10.{}.{}.0/24", i / 256, i % 256)}], "ipRanges": [format!("10.{}.{}.0/24", i / 256, i % 256)]}),
                1 => json!({"ipProtocol": "udp", "fromPort": port, "toPort": port, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}),
                2 => json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port + 10, "ipv6Ranges": [{"cidrIpv6": format!("2001:db8:{:x}::/48", i)}]}),
                _ => json!({"ipProtocol": "-1", "userIdGroupPairs": [{"groupId": "sg-0fedcba9876543210", "userId": "123456789012"}]}),
            }
        })
        .collect();
    json!({"configurationItemCaptureTime": "2026-11-20T09:14:27.318Z", "configurationItemStatus": "OK", "resourceType": "AWS::EC2::SecurityGroup",
           "resourceId": "sg-0123456789abcdef0", "configuration": {"groupId": "sg-0123456789abcdef0", "ipPermissionsEgress": egress}})
    .to_string()
    .into_bytes()
}

/// A DescribeSecurityGroups page of 1,000 groups, as the AWS CLI prints it.
pub fn describe_page() -> Vec<u8> {
    let groups: Vec<Value> = (0..1000u32)
        .map(|i| {
            let egress = match i % 3 {
                0 => json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]),
                1 => json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "PrefixListIds": [], "UserIdGroupPairs": []}]),
                _ => json!([]),
            };
            json!({"Description": "group", "GroupName": format!("g{i}"), "IpPermissions": [], "OwnerId": "123456789012",
                   "GroupId": format!("sg-{i:017x}"), "IpPermissionsEgress": egress, "Tags": [{"Key": "Name", "Value": format!("g{i}")}], "VpcId": "vpc-0a1b2c3d"})
        })
        .collect();
    json!({ "SecurityGroups": groups }).to_string().into_bytes()
}

fn parse_and_evaluate(bytes: &[u8]) -> usize {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let parameters = Parameters::default();
    let prefix_lists = KnownPrefixLists::new();
    read_documents(bytes)
        .unwrap()
        .iter()
        .map(|d| evaluate_document(d, &parameters, &prefix_lists, now).len())
        .sum()
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_and_evaluate");
    for (name, bytes, items) in [
        ("typical_item", typical_item(), 1u64),
        ("large_group_1000_permissions", large_group(), 1),
        ("describe_page_1000_groups", describe_page(), 1000),
    ] {
        group.throughput(Throughput::Elements(items));
        group.bench_with_input(BenchmarkId::new("items", name), &bytes, |b, bytes| {
            b.iter(|| parse_and_evaluate(black_box(bytes)))
        });
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("bytes", name), &bytes, |b, bytes| {
            b.iter(|| parse_and_evaluate(black_box(bytes)))
        });
    }
    group.finish();

    // The share of the work that is reading JSON into a tree, for comparison.
    let mut group = c.benchmark_group("json_only");
    let typical = typical_item();
    group.throughput(Throughput::Elements(1));
    group.bench_function("typical_item", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&typical)).unwrap())
    });
    group.finish();

    // README: "even a group with 100,000 CIDR blocks is decided in
    // milliseconds": 65,536 /16 blocks that together are the whole IPv4
    // space on all TCP ports, and 34,464 /32 blocks besides.
    let mut group = c.benchmark_group("many_cidr_blocks");
    group.sample_size(10);
    let blocks: Vec<String> = (0..65_536u32)
        .map(|i| format!("{}.{}.0.0/16", i >> 8, i & 255))
        .chain((0..34_464u32).map(|i| format!("10.{}.{}.{}/32", i >> 16, (i >> 8) & 255, i & 255)))
        .collect();
    let group_100k = serde_json::json!({"groupId": "sg-12345678", "ipPermissionsEgress": [
        {"ipProtocol": "tcp", "fromPort": 1, "toPort": 65535, "ipRanges": blocks}
    ]})
    .to_string()
    .into_bytes();
    group.throughput(Throughput::Elements(1));
    group.bench_function("group_100000_cidr_blocks", |b| {
        b.iter(|| parse_and_evaluate(black_box(&group_100k)))
    });
    group.finish();

    // The hook's answer for a group of 5,000 egress rules (issue: within 1 s):
    // the request read, the properties judged as a one-resource template,
    // the answer built.
    let mut group = c.benchmark_group("hook");
    group.sample_size(10);
    let rules: Vec<Value> = (0..5000u32)
        .map(|i| json!({"IpProtocol": "tcp", "FromPort": (i * 13) % 65000, "ToPort": (i * 13) % 65000 + 12,
            "CidrIp": format!("{}.{}.{}.0/24", 11 + i % 100, (i / 100) % 256, i % 256)}))
        .chain(std::iter::once(json!({"IpProtocol": "-1", "CidrIpv6": "::/0"})))
        .collect();
    let request = json!({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION",
        "requestData": {"targetName": "AWS::EC2::SecurityGroup", "targetLogicalId": "Big",
            "targetModel": {"resourceProperties": {"GroupDescription": "big", "SecurityGroupEgress": rules}}}})
    .to_string()
    .into_bytes();
    let options = sg_egress_core::templates::CheckOptions {
        parameters: Parameters::default(),
        template_parameters: Default::default(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        assume_defaults: true,
        prefix_lists: Default::default(),
        known_groups: Default::default(),
    };
    group.bench_function("resource_5000_rules", |b| {
        b.iter(
            || match sg_egress_core::hook::parse_request(black_box(&request)) {
                Ok(sg_egress_core::hook::Request::Resource {
                    token,
                    logical_id,
                    type_name,
                    properties,
                }) => sg_egress_core::hook::judge_resource(
                    &token,
                    &logical_id,
                    &type_name,
                    &properties,
                    &options,
                )
                .to_json(),
                _ => unreachable!("a resource request"),
            },
        )
    });
    group.finish();

    let mut group = c.benchmark_group("coverage");
    let rects: Vec<Rect> = (0..1000u32)
        .map(|i| Rect {
            first_port: (i * 65) % 65536,
            last_port: ((i * 65) % 65536 + 70).min(65535),
            first_address: u128::from(i) << 22,
            last_address: ((u128::from(i) + 8) << 22).min(u128::from(u32::MAX)),
        })
        .collect();
    group.throughput(Throughput::Elements(1));
    group.bench_function("covers_everything_1000_rects", |b| {
        b.iter(|| covers_everything(black_box(&rects), 1, 65535, u128::from(u32::MAX)))
    });
    group.finish();
}

criterion_group!(evaluate, benches);
criterion_main!(evaluate);
