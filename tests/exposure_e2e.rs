//! Effective exposure end to end: the function reads the network around
//! open groups from the emulator's EC2 (VPCs, subnets, route tables,
//! internet and NAT gateways, interfaces, built here), once per VPC, and
//! says where the traffic can go; a network it may not read is said
//! nothing of, and the finding is sent all the same.
#![cfg(feature = "aws")]

mod support;

use aws_sdk_ec2::types::{DomainType, Filter};
use serde_json::{json, Value};
use support::*;

/// A VPC of its own and what it holds.
struct Vpc {
    id: String,
    subnet: String,
}

async fn vpc(ec2: &aws_sdk_ec2::Client, cidr: &str) -> Vpc {
    let id = ec2
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let subnet_cidr = cidr.replace(".0.0/16", ".1.0/24");
    let subnet = ec2
        .create_subnet()
        .vpc_id(&id)
        .cidr_block(subnet_cidr)
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    Vpc { id, subnet }
}

async fn main_table(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    let tables = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .unwrap();
    tables
        .route_tables()
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main() == Some(true)))
        .and_then(|t| t.route_table_id())
        .expect("a main table")
        .to_string()
}

async fn internet_gateway(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway
        .unwrap()
        .internet_gateway_id
        .unwrap();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(vpc)
        .send()
        .await
        .unwrap();
    igw
}

async fn open_group(ec2: &aws_sdk_ec2::Client, vpc: &str, name: &str) -> String {
    ec2.create_security_group()
        .group_name(name)
        .description(name)
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap()
}

async fn interface(ec2: &aws_sdk_ec2::Client, subnet: &str, group: &str, public: bool) -> String {
    let eni = ec2
        .create_network_interface()
        .subnet_id(subnet)
        .groups(group)
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();
    if public {
        let allocation = ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .send()
            .await
            .unwrap();
        ec2.associate_address()
            .allocation_id(allocation.allocation_id.unwrap())
            .network_interface_id(&eni)
            .send()
            .await
            .unwrap();
    }
    eni
}

/// A public group behind an internet gateway, a private one behind a NAT
/// gateway, and one in an isolated VPC with no interface.
struct World {
    direct: (String, String),
    nat: (String, String),
    isolated: String,
}

async fn world(emulator: &Emulator) -> World {
    let ec2 = emulator.ec2().await;
    // 1. Public: the main table routes 0.0.0.0/0 to an attached gateway.
    let public = vpc(&ec2, "10.10.0.0/16").await;
    let igw = internet_gateway(&ec2, &public.id).await;
    let table = main_table(&ec2, &public.id).await;
    ec2.create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    let direct_group = open_group(&ec2, &public.id, "direct").await;
    interface(&ec2, &public.subnet, &direct_group, true).await;
    // 2. Private: its subnet's own table routes to a NAT gateway in a public subnet.
    let private = vpc(&ec2, "10.20.0.0/16").await;
    let igw2 = internet_gateway(&ec2, &private.id).await;
    let public_subnet = ec2
        .create_subnet()
        .vpc_id(&private.id)
        .cidr_block("10.20.2.0/24")
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let main2 = main_table(&ec2, &private.id).await;
    ec2.create_route()
        .route_table_id(&main2)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw2)
        .send()
        .await
        .unwrap();
    let allocation = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&public_subnet)
        .allocation_id(allocation.allocation_id.unwrap())
        .send()
        .await
        .unwrap()
        .nat_gateway
        .unwrap()
        .nat_gateway_id
        .unwrap();
    let private_table = ec2
        .create_route_table()
        .vpc_id(&private.id)
        .send()
        .await
        .unwrap()
        .route_table
        .unwrap()
        .route_table_id
        .unwrap();
    ec2.create_route()
        .route_table_id(&private_table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat)
        .send()
        .await
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&private_table)
        .subnet_id(&private.subnet)
        .send()
        .await
        .unwrap();
    let nat_group = open_group(&ec2, &private.id, "nat").await;
    interface(&ec2, &private.subnet, &nat_group, false).await;
    // 3. Isolated: only `local`, and no interface.
    let isolated = vpc(&ec2, "10.30.0.0/16").await;
    let isolated_group = open_group(&ec2, &isolated.id, "isolated").await;
    World {
        direct: (direct_group, igw),
        nat: (nat_group, nat),
        isolated: isolated_group,
    }
}

fn annotation_of(emulator: &Emulator, group: &str) -> (String, String) {
    let stored = emulator.stored();
    let e = &stored[group];
    (
        e["ComplianceType"].as_str().unwrap().to_string(),
        e.get("Annotation")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn change_events_say_where_open_traffic_can_go() {
    let emulator = Emulator::start();
    let world = world(&emulator).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    for group in [&world.direct.0, &world.nat.0, &world.isolated] {
        let (outcome, body) = emulator.invoke(&lambda_event(
            change_notification(emulator.config_item(group)),
            json!({}),
            &token,
        ));
        assert_eq!(outcome, "response", "{body}");
    }
    assert_eq!(
        annotation_of(&emulator, &world.direct.0),
        (
            "NON_COMPLIANT".to_string(),
            format!(
                "all traffic to 0.0.0.0/0; reach: direct via {}",
                world.direct.1
            )
        )
    );
    assert_eq!(
        annotation_of(&emulator, &world.nat.0),
        (
            "NON_COMPLIANT".to_string(),
            format!("all traffic to 0.0.0.0/0; reach: via {}", world.nat.1)
        )
    );
    assert_eq!(
        annotation_of(&emulator, &world.isolated),
        (
            "NON_COMPLIANT".to_string(),
            "all traffic to 0.0.0.0/0; reach: isolated".to_string()
        )
    );
    // Only ISOLATED relaxes, and only when asked.
    let (outcome, _) = emulator.invoke(&lambda_event(
        change_notification(emulator.config_item(&world.isolated)),
        json!({"ExposureMode": "relax-isolated"}),
        &token,
    ));
    assert_eq!(outcome, "response");
    let (compliance, annotation) = annotation_of(&emulator, &world.isolated);
    assert_eq!(compliance, "COMPLIANT");
    assert!(annotation.starts_with("Isolated: "), "{annotation}");
    let (outcome, _) = emulator.invoke(&lambda_event(
        change_notification(emulator.config_item(&world.direct.0)),
        json!({"ExposureMode": "relax-isolated"}),
        &token,
    ));
    assert_eq!(outcome, "response");
    assert_eq!(annotation_of(&emulator, &world.direct.0).0, "NON_COMPLIANT");
}

#[tokio::test]
async fn a_sweep_reads_each_network_once() {
    let emulator = Emulator::start();
    let world = world(&emulator).await;
    let _function = emulator.function();
    let token = emulator.result_token();
    let before: Vec<u64> = NETWORK_CALLS.iter().map(|op| emulator.calls(op)).collect();
    let (outcome, body) =
        emulator.invoke(&lambda_event(scheduled_notification(), json!({}), &token));
    assert_eq!(outcome, "response", "{body}");
    for (op, before) in NETWORK_CALLS.iter().zip(before) {
        // Every VPC with an open group in one call (the VPCs fit one filter).
        assert_eq!(emulator.calls(op) - before, 1, "{op}");
    }
    assert!(annotation_of(&emulator, &world.direct.0)
        .1
        .ends_with(&format!("; reach: direct via {}", world.direct.1)));
    assert!(annotation_of(&emulator, &world.nat.0)
        .1
        .ends_with(&format!("; reach: via {}", world.nat.1)));
    assert!(annotation_of(&emulator, &world.isolated)
        .1
        .ends_with("; reach: isolated"));
    // Nothing is read when exposure is off.
    let before: Vec<u64> = NETWORK_CALLS.iter().map(|op| emulator.calls(op)).collect();
    let (outcome, _) = emulator.invoke(&lambda_event(
        scheduled_notification(),
        json!({"ExposureMode": "off"}),
        &token,
    ));
    assert_eq!(outcome, "response");
    for (op, before) in NETWORK_CALLS.iter().zip(before) {
        assert_eq!(emulator.calls(op) - before, 0, "{op}");
    }
    assert_eq!(
        annotation_of(&emulator, &world.direct.0).1,
        "all traffic to 0.0.0.0/0"
    );
}

const NETWORK_CALLS: [&str; 5] = [
    "DescribeRouteTables",
    "DescribeNatGateways",
    "DescribeInternetGateways",
    "DescribeEgressOnlyInternetGateways",
    "DescribeNetworkInterfaces",
];

#[tokio::test]
async fn a_network_it_may_not_read_is_unknown_and_said_nothing_of() {
    let emulator = Emulator::start();
    let world = world(&emulator).await;
    emulator.control(
        "deny",
        json!({"denials": [{"action": "DescribeRouteTables"}]}),
    );
    let _function = emulator.function();
    let token = emulator.result_token();
    let (outcome, body) = emulator.invoke(&lambda_event(
        change_notification(emulator.config_item(&world.direct.0)),
        json!({}),
        &token,
    ));
    assert_eq!(outcome, "response", "{body}");
    // The finding is sent, with no reach: UNKNOWN is never shown as a class.
    assert_eq!(
        annotation_of(&emulator, &world.direct.0),
        (
            "NON_COMPLIANT".to_string(),
            "all traffic to 0.0.0.0/0".to_string()
        )
    );
}
