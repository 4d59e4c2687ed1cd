//! SPEC_EXPOSURE row by row, from the AWS CLI's outputs (and Config's
//! items): route-table choice, longest prefix, gateways, NAT, classes per
//! family, LATENT, ISOLATED, UNKNOWN, and the annotation `ExposureMode`
//! makes of them. Then properties of the route matching.

use proptest::prelude::*;
use serde_json::{json, Value};
use sg_egress_core::cidr::{Cidr, Family};
use sg_egress_core::exposure::{
    apply, exposure, reached_targets, Destination, Exposure, Network, Route, RouteTable, Target,
};
use sg_egress_core::model::{EgressPermission, KnownPrefixLists, Protocol, SecurityGroup, Usage};
use sg_egress_core::params::{ExposureMode, Parameters};
use sg_egress_core::read::read_network;
use sg_egress_core::verdict::{judge, Compliance};

const VPC: &str = "vpc-0aaaaaaaaaaaaaaaa";
const OTHER_VPC: &str = "vpc-0bbbbbbbbbbbbbbbb";
const GROUP: &str = "sg-0123456789abcdef0";

fn route(destination: &str, target: (&str, &str)) -> Value {
    let mut r = json!({"Origin": "CreateRoute", "State": "active"});
    if destination.starts_with("pl-") {
        r["DestinationPrefixListId"] = json!(destination);
    } else if destination.contains(':') {
        r["DestinationIpv6CidrBlock"] = json!(destination);
    } else {
        r["DestinationCidrBlock"] = json!(destination);
    }
    r[target.0] = json!(target.1);
    r
}

fn local() -> Value {
    json!({"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"})
}

fn table(id: &str, vpc: &str, main: bool, subnets: &[&str], routes: Vec<Value>) -> Value {
    let mut associations: Vec<Value> = subnets
        .iter()
        .map(|s| json!({"Main": false, "RouteTableAssociationId": format!("rtbassoc-{s}"), "SubnetId": s, "AssociationState": {"State": "associated"}}))
        .collect();
    if main {
        associations.push(json!({"Main": true, "RouteTableAssociationId": "rtbassoc-main", "AssociationState": {"State": "associated"}}));
    }
    json!({"RouteTableId": id, "VpcId": vpc, "Associations": associations, "Routes": routes})
}

fn interface(id: &str, subnet: &str, public_ipv4: bool, ipv6: bool) -> Value {
    let mut i = json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": VPC, "Groups": [{"GroupId": GROUP, "GroupName": "g"}],
        "PrivateIpAddress": "10.0.1.5", "Ipv6Addresses": []});
    if public_ipv4 {
        i["Association"] = json!({"PublicIp": "198.51.100.7", "IpOwnerId": "amazon"});
    }
    if ipv6 {
        i["Ipv6Addresses"] = json!([{"Ipv6Address": "2600:1f18::5"}]);
    }
    i
}

fn igw(id: &str, vpc: Option<&str>) -> Value {
    let attachments: Vec<Value> = vpc
        .into_iter()
        .map(|v| json!({"State": "available", "VpcId": v}))
        .collect();
    json!({"InternetGatewayId": id, "Attachments": attachments})
}

fn nat(id: &str, subnet: &str, public: bool, state: &str) -> Value {
    json!({"NatGatewayId": id, "SubnetId": subnet, "VpcId": VPC, "State": state,
        "ConnectivityType": if public { "public" } else { "private" }})
}

/// A network from CLI outputs.
fn network(
    interfaces: Vec<Value>,
    tables: Vec<Value>,
    nats: Vec<Value>,
    igws: Vec<Value>,
    eigws: Vec<Value>,
) -> Network {
    let mut n = Network::default();
    let pages = json!([
        {"NetworkInterfaces": interfaces},
        {"RouteTables": tables},
        {"NatGateways": nats},
        {"InternetGateways": igws},
        {"EgressOnlyInternetGateways": eigws},
    ]);
    read_network(pages.to_string().as_bytes(), &mut n).expect("the network reads");
    n.interfaces_read_for.insert(GROUP.to_string());
    n
}

fn v4(n: &Network) -> Exposure {
    exposure(GROUP, Some(VPC), Family::Ipv4, n)
}

fn v6(n: &Network) -> Exposure {
    exposure(GROUP, Some(VPC), Family::Ipv6, n)
}

fn direct(id: &str) -> Exposure {
    Exposure::Direct {
        via: id.to_string(),
    }
}

#[test]
fn the_explicit_association_beats_the_main_table_and_the_main_table_is_this_vpcs() {
    // The subnet's own table has only local; the main table has the gateway.
    let n = network(
        vec![interface("eni-1", "subnet-a", true, false)],
        vec![
            table(
                "rtb-main",
                VPC,
                true,
                &[],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
            ),
            table("rtb-a", VPC, false, &["subnet-a"], vec![local()]),
        ],
        vec![],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    );
    // Not DIRECT: LATENT, naming the main table's route.
    assert_eq!(
        v4(&n),
        Exposure::Latent {
            route: "no interface reaches out; main table rtb-main routes to igw-1".to_string()
        }
    );
    // Without an explicit association the main table applies: DIRECT.
    let n = network(
        vec![interface("eni-1", "subnet-b", true, false)],
        vec![
            table(
                "rtb-main",
                VPC,
                true,
                &[],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
            ),
            table("rtb-a", VPC, false, &["subnet-a"], vec![local()]),
            // Another VPC's main table is never this VPC's.
            table(
                "rtb-other",
                OTHER_VPC,
                true,
                &[],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-2"))],
            ),
        ],
        vec![],
        vec![igw("igw-1", Some(VPC)), igw("igw-2", Some(OTHER_VPC))],
        vec![],
    );
    assert_eq!(v4(&n), direct("igw-1"));
    // This VPC has no main table read: UNKNOWN, not another VPC's table.
    let n = network(
        vec![interface("eni-1", "subnet-b", true, false)],
        vec![
            table("rtb-a", VPC, false, &["subnet-a"], vec![local()]),
            table(
                "rtb-other",
                OTHER_VPC,
                true,
                &[],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-2"))],
            ),
        ],
        vec![],
        vec![igw("igw-2", Some(OTHER_VPC))],
        vec![],
    );
    assert!(matches!(v4(&n), Exposure::Unknown { .. }), "{:?}", v4(&n));
}

#[test]
fn an_edge_association_is_not_a_subnet_association() {
    let mut edge = table(
        "rtb-edge",
        VPC,
        false,
        &[],
        vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
    );
    edge["Associations"] =
        json!([{"Main": false, "GatewayId": "igw-1", "AssociationState": {"State": "associated"}}]);
    let n = network(
        vec![interface("eni-1", "subnet-a", true, false)],
        vec![table("rtb-main", VPC, true, &[], vec![local()]), edge],
        vec![],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    );
    // The subnet uses the main table (local only); the edge table's route still makes it latent.
    assert!(matches!(v4(&n), Exposure::Latent { .. }), "{:?}", v4(&n));
}

#[test]
fn two_halves_to_the_gateway_are_a_default_route() {
    let n = network(
        vec![interface("eni-1", "subnet-a", true, false)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![
                local(),
                route("0.0.0.0/1", ("GatewayId", "igw-1")),
                route("128.0.0.0/1", ("GatewayId", "igw-1")),
            ],
        )],
        vec![],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    );
    assert_eq!(v4(&n), direct("igw-1"));
}

fn nat_network(
    public_ip: bool,
    nat_public: bool,
    nat_state: &str,
    nat_subnet_routes_out: bool,
) -> Network {
    let mut public_routes = vec![local()];
    if nat_subnet_routes_out {
        public_routes.push(route("0.0.0.0/0", ("GatewayId", "igw-1")));
    }
    network(
        vec![interface("eni-1", "subnet-private", public_ip, false)],
        vec![
            table(
                "rtb-private",
                VPC,
                false,
                &["subnet-private"],
                vec![
                    local(),
                    route("0.0.0.0/0", ("NatGatewayId", "nat-1")),
                    route("198.51.100.0/24", ("GatewayId", "igw-1")),
                    route("203.0.113.0/24", ("GatewayId", "igw-1")),
                    route("52.0.0.0/8", ("GatewayId", "igw-1")),
                ],
            ),
            table("rtb-public", VPC, true, &["subnet-public"], public_routes),
        ],
        vec![nat("nat-1", "subnet-public", nat_public, nat_state)],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    )
}

#[test]
fn nat_gateways_public_available_and_routed_out() {
    // A default route to the NAT, a specific public block to the gateway:
    // without a public address the block reaches nothing, the NAT does.
    assert_eq!(
        v4(&nat_network(false, true, "available", true)),
        Exposure::ViaNat {
            via: "nat-1".to_string()
        }
    );
    // With a public address the specific block goes straight out.
    assert_eq!(
        v4(&nat_network(true, true, "available", true)),
        direct("igw-1")
    );
    // A private NAT gateway, a NAT gateway being deleted, a NAT gateway whose
    // subnet has no way out: none reaches the internet (latent: routes exist).
    for n in [
        nat_network(false, false, "available", true),
        nat_network(false, true, "deleting", true),
        nat_network(false, true, "available", false),
    ] {
        assert!(matches!(v4(&n), Exposure::Latent { .. }), "{:?}", v4(&n));
    }
    // A public NAT gateway whose subnet sends the internet to a transit
    // gateway: the way out leaves what the account sees, INDIRECT.
    let mut n = nat_network(false, true, "available", false);
    let public = n
        .route_tables
        .iter_mut()
        .find(|t| t.id == "rtb-public")
        .unwrap();
    let beyond = network(
        vec![],
        vec![table(
            "rtb-x",
            VPC,
            false,
            &[],
            vec![route("0.0.0.0/0", ("TransitGatewayId", "tgw-1"))],
        )],
        vec![],
        vec![],
        vec![],
    );
    public.routes.extend(beyond.route_tables[0].routes.clone());
    assert_eq!(
        v4(&n),
        Exposure::Indirect {
            via: "nat-1 to tgw-1".to_string()
        }
    );
}

#[test]
fn blackhole_routes_and_detached_gateways_reach_nothing() {
    let mut dead = route("0.0.0.0/0", ("GatewayId", "igw-1"));
    dead["State"] = json!("blackhole");
    let n = network(
        vec![interface("eni-1", "subnet-a", true, false)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), dead],
        )],
        vec![],
        vec![igw("igw-1", None)],
        vec![],
    );
    assert_eq!(v4(&n), Exposure::Isolated);
    // An active route to a gateway that is not attached to this VPC.
    let n = network(
        vec![interface("eni-1", "subnet-a", true, false)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
        )],
        vec![],
        vec![igw("igw-1", Some(OTHER_VPC))],
        vec![],
    );
    assert!(matches!(v4(&n), Exposure::Latent { .. }));
}

#[test]
fn an_interface_without_a_public_address_does_not_reach_through_the_gateway() {
    // Lambda's interfaces never have one.
    let n = network(
        vec![interface("eni-lambda", "subnet-a", false, false)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
        )],
        vec![],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    );
    assert_eq!(
        v4(&n),
        Exposure::Latent {
            route: "no interface reaches out; main table rtb-a routes to igw-1".to_string()
        }
    );
}

#[test]
fn ipv6_through_an_egress_only_gateway_and_nat64() {
    let n = network(
        vec![interface("eni-1", "subnet-a", false, true)],
        vec![
            table(
                "rtb-a",
                VPC,
                true,
                &["subnet-a"],
                vec![
                    local(),
                    route("::/0", ("EgressOnlyInternetGatewayId", "eigw-1")),
                    route("64:ff9b::/96", ("NatGatewayId", "nat-1")),
                ],
            ),
            table(
                "rtb-public",
                VPC,
                false,
                &["subnet-public"],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
            ),
        ],
        vec![nat("nat-1", "subnet-public", true, "available")],
        vec![igw("igw-1", Some(VPC))],
        vec![
            json!({"EgressOnlyInternetGatewayId": "eigw-1", "Attachments": [{"State": "attached", "VpcId": VPC}]}),
        ],
    );
    assert_eq!(v6(&n), direct("eigw-1"));
    // IPv4 has no way out from that subnet, but the public table routes out.
    assert!(matches!(v4(&n), Exposure::Latent { .. }));
    // NAT64 alone.
    let n = network(
        vec![interface("eni-1", "subnet-a", false, true)],
        vec![
            table(
                "rtb-a",
                VPC,
                true,
                &["subnet-a"],
                vec![local(), route("64:ff9b::/96", ("NatGatewayId", "nat-1"))],
            ),
            table(
                "rtb-public",
                VPC,
                false,
                &["subnet-public"],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
            ),
        ],
        vec![nat("nat-1", "subnet-public", true, "available")],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    );
    assert_eq!(
        v6(&n),
        Exposure::ViaNat {
            via: "nat-1".to_string()
        }
    );
}

#[test]
fn paths_beyond_what_the_account_sees_are_indirect_and_peering_is_not() {
    for (target, expected) in [
        (("TransitGatewayId", "tgw-1"), Some("tgw-1")),
        (("GatewayId", "vgw-1"), Some("vgw-1")),
        (
            ("NetworkInterfaceId", "eni-appliance"),
            Some("eni-appliance"),
        ),
        (("InstanceId", "i-0nat"), Some("i-0nat")),
        (
            (
                "CoreNetworkArn",
                "arn:aws:networkmanager::123456789012:core-network/core-network-1",
            ),
            Some("arn:aws:networkmanager::123456789012:core-network/core-network-1"),
        ),
        (("GatewayId", "vpce-gwlb"), Some("vpce-gwlb")),
        (("VpcPeeringConnectionId", "pcx-1"), None),
    ] {
        let mut r = route("0.0.0.0/0", target);
        if target.1 == "vgw-1" {
            r["Origin"] = json!("EnableVgwRoutePropagation");
        }
        let n = network(
            vec![interface("eni-1", "subnet-a", false, false)],
            vec![table("rtb-a", VPC, true, &["subnet-a"], vec![local(), r])],
            vec![],
            vec![],
            vec![],
        );
        match expected {
            Some(id) => assert_eq!(
                v4(&n),
                Exposure::Indirect {
                    via: id.to_string()
                },
                "{target:?}"
            ),
            None => assert!(
                matches!(v4(&n), Exposure::Latent { .. }),
                "{target:?}: {:?}",
                v4(&n)
            ),
        }
    }
    // A gateway endpoint's prefix list route reaches AWS's network only.
    let mut n = network(
        vec![interface("eni-1", "subnet-a", false, false)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), route("pl-63a5400a", ("GatewayId", "vpce-s3"))],
        )],
        vec![],
        vec![],
        vec![],
    );
    n.prefix_lists.insert(
        "pl-63a5400a".to_string(),
        vec![Cidr::parse("52.216.0.0/15").unwrap()],
    );
    assert!(matches!(v4(&n), Exposure::Latent { .. }), "{:?}", v4(&n));
    // Its entries unknown: UNKNOWN.
    n.prefix_lists.clear();
    assert!(matches!(v4(&n), Exposure::Unknown { .. }));
}

#[test]
fn the_best_of_several_interfaces_in_different_subnets() {
    let n = network(
        vec![
            interface("eni-1", "subnet-private", false, false),
            interface("eni-2", "subnet-public", true, false),
        ],
        vec![
            table(
                "rtb-private",
                VPC,
                false,
                &["subnet-private"],
                vec![local(), route("0.0.0.0/0", ("TransitGatewayId", "tgw-1"))],
            ),
            table(
                "rtb-public",
                VPC,
                true,
                &["subnet-public"],
                vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
            ),
        ],
        vec![],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    );
    assert_eq!(v4(&n), direct("igw-1"));
}

#[test]
fn isolated_and_unknown() {
    let n = network(
        vec![interface("eni-1", "subnet-a", true, true)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), route("10.1.0.0/16", ("TransitGatewayId", "tgw-1"))],
        )],
        vec![],
        vec![],
        vec![],
    );
    // A route to a private block is no way to the internet.
    assert_eq!(v4(&n), Exposure::Isolated);
    assert_eq!(v6(&n), Exposure::Isolated);
    // A NAT gateway the input does not describe.
    let n = network(
        vec![interface("eni-1", "subnet-a", false, false)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), route("0.0.0.0/0", ("NatGatewayId", "nat-9"))],
        )],
        vec![],
        vec![],
        vec![],
    );
    assert_eq!(
        v4(&n),
        Exposure::Unknown {
            missing: "nat-9, a target in rtb-a".to_string()
        }
    );
    // A VPC whose routing was not seen (zero tables, as a VPC shared into
    // the account gives its participants; or some tables, not the main
    // one): UNKNOWN, never ISOLATED, so relax-isolated passes nothing.
    for tables in [
        vec![],
        vec![table("rtb-b", VPC, false, &["subnet-b"], vec![local()])],
    ] {
        let mut n = network(vec![], tables, vec![], vec![], vec![]);
        n.complete_vpcs.insert(VPC.to_string());
        assert_eq!(
            v4(&n),
            Exposure::Unknown {
                missing: format!("the main route table of {VPC}")
            }
        );
        let (compliance, _) =
            verdict_with(&open_group(&["0.0.0.0/0"]), &n, ExposureMode::RelaxIsolated);
        assert_eq!(compliance, Compliance::NonCompliant);
    }
    // A VPC that could not be read, interfaces not read: UNKNOWN.
    let mut n = Network::default();
    n.unreadable.insert(
        VPC.to_string(),
        "DescribeRouteTables: access denied".to_string(),
    );
    assert!(matches!(v4(&n), Exposure::Unknown { .. }));
    let n = Network::default();
    assert!(matches!(
        exposure(GROUP, None, Family::Ipv4, &n),
        Exposure::Unknown { .. }
    ));
}

#[test]
fn config_items_read_as_the_cli_outputs_do() {
    let items = json!({"Results": [
        json!({"resourceType": "AWS::EC2::NetworkInterface", "configuration": {"networkInterfaceId": "eni-1", "subnetId": "subnet-a", "vpcId": VPC,
            "groups": [{"groupId": GROUP}], "association": {"publicIp": "198.51.100.7"}, "ipv6Addresses": []}}).to_string(),
        json!({"resourceType": "AWS::EC2::RouteTable", "configuration": {"routeTableId": "rtb-a", "vpcId": VPC,
            "associations": [{"main": true}], "routes": [{"destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1", "state": "active"}]}}).to_string(),
        json!({"resourceType": "AWS::EC2::InternetGateway", "configuration": {"internetGatewayId": "igw-1", "attachments": [{"vpcId": VPC, "state": "available"}]}}).to_string(),
        json!({"resourceType": "AWS::EC2::SecurityGroup", "configuration": {"groupId": GROUP}}).to_string(),
    ]});
    let mut n = Network::default();
    read_network(items.to_string().as_bytes(), &mut n).expect("reads");
    assert_eq!(v4(&n), direct("igw-1"));
    let error = read_network(br#"{"Hello": []}"#, &mut n).unwrap_err();
    assert!(error.to_string().contains("found keys: Hello"), "{error}");
    let error = read_network(br#"{"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Routes": [{"DestinationCidrBlock": "nope", "GatewayId": "local"}]}]}"#, &mut n).unwrap_err();
    assert!(error.to_string().contains("\"nope\""), "{error}");
}

// ---- the annotation ----------------------------------------------------------

fn open_group(families: &[&str]) -> SecurityGroup {
    let mut permission = EgressPermission::new(Protocol::All, None, None).unwrap();
    for f in families {
        permission.add_cidr(f);
    }
    SecurityGroup {
        group_id: GROUP.to_string(),
        vpc_id: Some(VPC.to_string()),
        tags: Default::default(),
        usage: Usage::Unknown,
        egress: vec![permission],
    }
}

fn verdict_with(group: &SecurityGroup, n: &Network, mode: ExposureMode) -> (Compliance, String) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let v = apply(
        judge(
            group,
            &Parameters::default(),
            &KnownPrefixLists::new(),
            today,
        ),
        group,
        n,
        mode,
    );
    (v.compliance, v.annotation.unwrap_or_default())
}

fn dual_network() -> Network {
    network(
        vec![interface("eni-1", "subnet-a", true, true)],
        vec![table(
            "rtb-a",
            VPC,
            true,
            &["subnet-a"],
            vec![local(), route("0.0.0.0/0", ("GatewayId", "igw-1"))],
        )],
        vec![],
        vec![igw("igw-1", Some(VPC))],
        vec![],
    )
}

#[test]
fn the_annotation_gives_the_finding_then_the_reach() {
    let n = dual_network();
    assert_eq!(
        verdict_with(&open_group(&["0.0.0.0/0"]), &n, ExposureMode::Annotate),
        (
            Compliance::NonCompliant,
            "all traffic to 0.0.0.0/0; reach: direct via igw-1".to_string()
        )
    );
    assert_eq!(
        verdict_with(&open_group(&["0.0.0.0/0", "::/0"]), &n, ExposureMode::Annotate),
        (Compliance::NonCompliant, "all traffic to 0.0.0.0/0; all traffic to ::/0; reach: IPv4 direct via igw-1, IPv6 isolated".to_string())
    );
    assert_eq!(
        verdict_with(&open_group(&["0.0.0.0/0"]), &n, ExposureMode::Off),
        (
            Compliance::NonCompliant,
            "all traffic to 0.0.0.0/0".to_string()
        )
    );
    // UNKNOWN is not said.
    assert_eq!(
        verdict_with(
            &open_group(&["0.0.0.0/0"]),
            &Network::default(),
            ExposureMode::Annotate
        ),
        (
            Compliance::NonCompliant,
            "all traffic to 0.0.0.0/0".to_string()
        )
    );
}

#[test]
fn only_isolated_relaxes_and_only_when_asked() {
    let n = dual_network();
    // Open on IPv6 only, and IPv6 is isolated.
    let (compliance, annotation) =
        verdict_with(&open_group(&["::/0"]), &n, ExposureMode::RelaxIsolated);
    assert_eq!(compliance, Compliance::Compliant);
    assert!(
        annotation.starts_with("Isolated: ") && annotation.contains("all traffic to ::/0"),
        "{annotation}"
    );
    assert_eq!(
        verdict_with(&open_group(&["::/0"]), &n, ExposureMode::Annotate).0,
        Compliance::NonCompliant
    );
    // Open on both, IPv4 direct: stays NON_COMPLIANT.
    assert_eq!(
        verdict_with(
            &open_group(&["0.0.0.0/0", "::/0"]),
            &n,
            ExposureMode::RelaxIsolated
        )
        .0,
        Compliance::NonCompliant
    );
}

#[test]
fn the_reach_is_cut_before_the_finding() {
    let long: Vec<String> = (0..40).map(|i| format!("{i}.0.0.0/8")).collect();
    let mut group = open_group(&[]);
    for block in ["0.0.0.0/1", "128.0.0.0/1"] {
        group.egress[0].add_cidr(block);
    }
    for block in &long {
        group.egress[0].add_cidr(block);
    }
    let (_, annotation) = verdict_with(&group, &dual_network(), ExposureMode::Annotate);
    let finding = verdict_with(&group, &dual_network(), ExposureMode::Off).1;
    assert!(
        annotation.starts_with(finding.trim_end_matches('…')),
        "{annotation}"
    );
    assert!(annotation.chars().count() <= 256);
}

// ---- properties ----------------------------------------------------------------

fn public_v4(address: u32) -> bool {
    let a = std::net::Ipv4Addr::from(address);
    let o = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_documentation()
        || a.is_multicast()
        || a.is_broadcast()
        || o[0] == 0
        || o[0] >= 224
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 192 && o[1] == 88 && o[2] == 99)
        || (o[0] == 198 && (18..20).contains(&o[1])))
}

fn arbitrary_table() -> impl Strategy<Value = Vec<(u32, u8, usize)>> {
    proptest::collection::vec((any::<u32>(), 0u8..=24, 0usize..4), 0..6)
}

const TARGETS: [&str; 4] = ["igw-1", "nat-1", "tgw-1", "pcx-1"];

fn to_table(routes: &[(u32, u8, usize)]) -> RouteTable {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for &(address, prefix, target) in routes {
        let cidr = Cidr::from_parts(Family::Ipv4, u128::from(address), prefix).unwrap();
        if !seen.insert((cidr.first, cidr.prefix)) {
            continue; // one route per destination, as AWS allows
        }
        let id = TARGETS[target].to_string();
        out.push(Route {
            destination: Destination::Cidr(cidr),
            target: match target {
                0 => Target::InternetGateway(id),
                1 => Target::NatGateway(id),
                2 => Target::Beyond(id),
                _ => Target::Peering(id),
            },
            active: true,
        });
    }
    RouteTable {
        id: "rtb-p".to_string(),
        vpc_id: VPC.to_string(),
        main: true,
        subnets: vec![],
        routes: out,
    }
}

/// Every target some public address reaches, by brute force over one
/// address of every stretch where the matching routes cannot change.
fn brute_targets(table: &RouteTable) -> std::collections::BTreeSet<String> {
    let mut points: Vec<u32> = vec![0, u32::MAX];
    let mut edge = |x: u128| {
        for d in [0i128, -1, 1] {
            let y = x as i128 + d;
            if (0..=i128::from(u32::MAX)).contains(&y) {
                points.push(y as u32);
            }
        }
    };
    for r in &table.routes {
        if let Destination::Cidr(c) = &r.destination {
            edge(c.first);
            edge(c.last);
        }
    }
    for block in [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
    ] {
        let c = Cidr::parse(block).unwrap();
        edge(c.first);
        edge(c.last);
    }
    let mut out = std::collections::BTreeSet::new();
    for p in points.into_iter().filter(|p| public_v4(*p)) {
        let best = table
            .routes
            .iter()
            .filter_map(|r| match &r.destination {
                Destination::Cidr(c) if c.first <= u128::from(p) && u128::from(p) <= c.last => {
                    Some((c.prefix, r))
                }
                _ => None,
            })
            .max_by_key(|(prefix, _)| *prefix);
        if let Some((_, r)) = best {
            out.insert(format!("{:?}", r.target));
        }
    }
    out
}

proptest! {
    #[test]
    fn longest_prefix_agrees_with_brute_force(routes in arbitrary_table()) {
        let table = to_table(&routes);
        let n = Network::default();
        let reached: std::collections::BTreeSet<String> = reached_targets(&table, Family::Ipv4, &n)
            .unwrap()
            .into_iter()
            .map(|t| format!("{t:?}"))
            .collect();
        prop_assert_eq!(reached, brute_targets(&table));
    }

    #[test]
    fn a_route_that_takes_no_address_from_another_never_lowers_the_class(
        routes in arbitrary_table(), extra in (any::<u32>(), 0u8..=24, 0usize..4), public_ip in any::<bool>()
    ) {
        let base = to_table(&routes);
        let mut grown = to_table(&[routes.clone(), vec![extra]].concat());
        let new = Cidr::from_parts(Family::Ipv4, u128::from(extra.0), extra.1).unwrap();
        let overlaps = base.routes.iter().any(|r| match &r.destination {
            Destination::Cidr(c) => c.contains(&new) || new.contains(c),
            _ => false,
        });
        prop_assume!(!overlaps && grown.routes.len() == base.routes.len() + 1);
        let class = |table: RouteTable| {
            let public_table = RouteTable {
                id: "rtb-public".into(),
                vpc_id: VPC.into(),
                main: false,
                subnets: vec!["subnet-public".into()],
                routes: vec![Route {
                    destination: Destination::Cidr(Cidr::parse("0.0.0.0/0").unwrap()),
                    target: Target::InternetGateway("igw-1".into()),
                    active: true,
                }],
            };
            let n = Network {
                route_tables: vec![table, public_table],
                internet_gateways: vec![sg_egress_core::exposure::Gateway { id: "igw-1".into(), attached_vpcs: vec![VPC.into()] }],
                nat_gateways: vec![sg_egress_core::exposure::NatGateway {
                    id: "nat-1".into(),
                    subnet_id: "subnet-public".into(),
                    vpc_id: VPC.into(),
                    public: true,
                    available: true,
                }],
                interfaces: vec![sg_egress_core::exposure::Interface {
                    id: "eni-1".into(),
                    subnet_id: "subnet-a".into(),
                    vpc_id: VPC.into(),
                    groups: vec![GROUP.into()],
                    public_ipv4: public_ip,
                    ..Default::default()
                }],
                complete_vpcs: [VPC.to_string()].into(),
                interfaces_read_for: [GROUP.to_string()].into(),
                ..Default::default()
            };
            exposure(GROUP, Some(VPC), Family::Ipv4, &n).rank()
        };
        grown.id = base.id.clone();
        prop_assert!(class(grown) <= class(base));
    }

    #[test]
    fn isolated_means_no_table_routes_a_public_address_but_locally(
        tables in proptest::collection::vec(arbitrary_table(), 1..3)
    ) {
        let mut n = Network::default();
        for (i, routes) in tables.iter().enumerate() {
            let mut t = to_table(routes);
            t.id = format!("rtb-{i}");
            t.main = i == 0;
            n.route_tables.push(t);
        }
        n.complete_vpcs.insert(VPC.into());
        n.interfaces_read_for.insert(GROUP.into());
        if exposure(GROUP, Some(VPC), Family::Ipv4, &n) == Exposure::Isolated {
            for t in &n.route_tables {
                for r in &t.routes {
                    if let Destination::Cidr(c) = &r.destination {
                        // Brute force over the block's edges and a stride through it.
                        let step = ((c.last - c.first) / 4096).max(1);
                        let mut a = c.first;
                        while a <= c.last {
                            prop_assert!(r.target == Target::Local || !public_v4(a as u32), "{:?} routes public {a} to {:?}", c, r.target);
                            a += step;
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_group_without_interfaces_is_latent_or_isolated_by_its_vpc() {
    let mut n = network(
        vec![],
        vec![
            table("rtb-main", VPC, true, &[], vec![local()]),
            table(
                "rtb-a",
                VPC,
                false,
                &["subnet-0aa"],
                vec![local(), route("0.0.0.0/0", ("NatGatewayId", "nat-0def"))],
            ),
        ],
        vec![],
        vec![],
        vec![],
    );
    assert_eq!(
        v4(&n),
        Exposure::Latent {
            route: "no interface; subnet-0aa routes to nat-0def".to_string()
        }
    );
    n.route_tables.pop();
    assert_eq!(v4(&n), Exposure::Isolated);
}

#[test]
fn a_network_input_that_cannot_be_read_names_the_field() {
    let cases = [
        (
            json!({"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": VPC, "Routes": [{"DestinationCidrBlock": 5}]}]}),
            "RouteTables[0].Routes[0].DestinationCidrBlock",
        ),
        (
            json!({"Results": [json!({"resourceType": "AWS::EC2::NatGateway",
                "configuration": {"natGatewayId": "nat-1", "subnetId": "subnet-a", "vpcId": VPC, "state": ["available"]}}).to_string()]}),
            "Results[0].configuration.state",
        ),
        (
            json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "VpcId": VPC}]}),
            "NetworkInterfaces[0]",
        ),
    ];
    for (input, path) in cases {
        let mut n = Network::default();
        let error = read_network(input.to_string().as_bytes(), &mut n).unwrap_err();
        assert_eq!(error.path, path, "{error:?}");
    }
    // null is missing: an interface with no groups listed, no association.
    let mut n = Network::default();
    read_network(
        json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-a", "VpcId": VPC,
            "Groups": null, "Association": null, "Ipv6Addresses": null}]})
        .to_string()
        .as_bytes(),
        &mut n,
    )
    .expect("reads");
    assert_eq!(n.interfaces.len(), 1);
    assert!(n.interfaces[0].groups.is_empty() && !n.interfaces[0].public_ipv4);
}
