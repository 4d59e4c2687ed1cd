//! The network around groups, for effective exposure (SPEC_EXPOSURE §2):
//! the AWS CLI outputs of `describe-network-interfaces`,
//! `describe-route-tables`, `describe-nat-gateways`,
//! `describe-internet-gateways`, `describe-egress-only-internet-gateways`
//! (and `describe-subnets`, accepted and not needed), or configuration
//! items of the matching `AWS::EC2::*` types (a `SelectResourceConfig`
//! export, a list of items, one item). Told apart by their keys; member
//! names are read in the API's PascalCase or Config's camelCase.

use super::ReadError;
use crate::exposure::{Gateway, Interface, NatGateway, Network, Route, RouteFields, RouteTable};
use serde_json::Value;

/// A member of an object, by its PascalCase name or its camelCase twin.
fn member<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    let map = object.as_object()?;
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    let mut camel = name.to_string();
    if let Some(first) = camel.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    map.get(&camel)
}

fn text<'v>(object: &'v Value, name: &str) -> Option<&'v str> {
    member(object, name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn list<'v>(object: &'v Value, name: &str) -> &'v [Value] {
    member(object, name)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn required(object: &Value, name: &str, what: &str) -> Result<String, ReadError> {
    text(object, name)
        .map(str::to_string)
        .ok_or_else(|| ReadError::new("", format!("{what}: {name} is missing")))
}

/// Reads one network file into `network`. Every VPC a route table is read
/// for counts as read whole; every interface listed counts for its groups.
pub fn read_network(bytes: &[u8], network: &mut Network) -> Result<(), ReadError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ReadError::new("", format!("not valid JSON: {e}")))?;
    read_value(&value, network)
}

fn read_value(value: &Value, network: &mut Network) -> Result<(), ReadError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|item| read_value(item, network)),
        Value::Object(map) => {
            // A SelectResourceConfig export: results are JSON text.
            if let Some(results) = map.get("Results").and_then(Value::as_array) {
                for result in results {
                    let item = match result {
                        Value::String(t) => serde_json::from_str(t).map_err(|e| {
                            ReadError::new("", format!("Results: an element is not JSON text: {e}"))
                        })?,
                        other => other.clone(),
                    };
                    read_value(&item, network)?;
                }
                return Ok(());
            }
            if let Some(items) = map.get("configurationItems").and_then(Value::as_array) {
                return items.iter().try_for_each(|item| read_value(item, network));
            }
            if let Some(kind) = map.get("resourceType").and_then(Value::as_str) {
                let configuration = match map.get("configuration") {
                    Some(Value::String(t)) => serde_json::from_str(t).map_err(|e| {
                        ReadError::new("", format!("configuration: not JSON text: {e}"))
                    })?,
                    Some(other) => other.clone(),
                    None => {
                        return Err(ReadError::new(
                            "",
                            format!("a {kind} item without its configuration"),
                        ))
                    }
                };
                return read_item(kind, &configuration, network);
            }
            let mut known = false;
            for (key, kind) in [
                ("NetworkInterfaces", "AWS::EC2::NetworkInterface"),
                ("RouteTables", "AWS::EC2::RouteTable"),
                ("NatGateways", "AWS::EC2::NatGateway"),
                ("InternetGateways", "AWS::EC2::InternetGateway"),
                (
                    "EgressOnlyInternetGateways",
                    "AWS::EC2::EgressOnlyInternetGateway",
                ),
                ("Subnets", "AWS::EC2::Subnet"),
            ] {
                if let Some(items) = map.get(key).and_then(Value::as_array) {
                    known = true;
                    // A listing of the account's interfaces: a group none lists has none.
                    network.all_interfaces_read |= key == "NetworkInterfaces";
                    for item in items {
                        read_item(kind, item, network)?;
                    }
                }
            }
            if known {
                Ok(())
            } else {
                let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
                Err(ReadError::new("", format!(
                    "not a network input (expected the output of describe-network-interfaces, describe-route-tables, describe-nat-gateways, describe-internet-gateways, describe-egress-only-internet-gateways, or Config items of those types); found keys: {}",
                    keys.join(", ")
                )))
            }
        }
        other => Err(ReadError::new(
            "",
            format!("a network input must be a JSON object or list, found {other}"),
        )),
    }
}

fn read_item(kind: &str, item: &Value, network: &mut Network) -> Result<(), ReadError> {
    match kind {
        "AWS::EC2::NetworkInterface" => {
            let id = required(item, "NetworkInterfaceId", "a network interface")?;
            let interface = Interface {
                subnet_id: required(item, "SubnetId", &id)?,
                vpc_id: required(item, "VpcId", &id)?,
                groups: list(item, "Groups")
                    .iter()
                    .filter_map(|g| text(g, "GroupId"))
                    .map(str::to_string)
                    .collect(),
                public_ipv4: member(item, "Association")
                    .and_then(|a| text(a, "PublicIp"))
                    .is_some()
                    || list(item, "PrivateIpAddresses").iter().any(|p| {
                        member(p, "Association")
                            .and_then(|a| text(a, "PublicIp"))
                            .is_some()
                    }),
                ipv6: !list(item, "Ipv6Addresses").is_empty()
                    || text(item, "Ipv6Address").is_some(),
                carrier_ip: member(item, "Association")
                    .and_then(|a| text(a, "CarrierIp"))
                    .is_some(),
                id,
            };
            // A listing of interfaces (CLI output or Config items) is taken as
            // the account's: a group none lists has none.
            network.all_interfaces_read = true;
            network.interfaces.push(interface);
        }
        "AWS::EC2::RouteTable" => {
            let id = required(item, "RouteTableId", "a route table")?;
            let vpc_id = required(item, "VpcId", &id)?;
            let associations = list(item, "Associations");
            let main = associations
                .iter()
                .any(|a| member(a, "Main").and_then(Value::as_bool) == Some(true));
            let subnets = associations
                .iter()
                .filter(|a| {
                    member(a, "AssociationState")
                        .and_then(|s| text(s, "State"))
                        .is_none_or(|s| s == "associated")
                })
                .filter_map(|a| text(a, "SubnetId"))
                .map(str::to_string)
                .collect();
            let mut routes = Vec::new();
            for route in list(item, "Routes") {
                routes.push(read_route(route, &id)?);
            }
            network.complete_vpcs.insert(vpc_id.clone());
            network.route_tables.push(RouteTable {
                id,
                vpc_id,
                main,
                subnets,
                routes,
            });
        }
        "AWS::EC2::NatGateway" => {
            let id = required(item, "NatGatewayId", "a NAT gateway")?;
            network.nat_gateways.push(NatGateway {
                subnet_id: required(item, "SubnetId", &id)?,
                vpc_id: required(item, "VpcId", &id)?,
                // Public unless it says private (the default, and older outputs say nothing).
                public: text(item, "ConnectivityType")
                    .is_none_or(|c| c.eq_ignore_ascii_case("public")),
                available: text(item, "State").is_none_or(|s| s.eq_ignore_ascii_case("available")),
                id,
            });
        }
        "AWS::EC2::InternetGateway" | "AWS::EC2::EgressOnlyInternetGateway" => {
            let (name, gateways) = if kind == "AWS::EC2::InternetGateway" {
                ("InternetGatewayId", &mut network.internet_gateways)
            } else {
                (
                    "EgressOnlyInternetGatewayId",
                    &mut network.egress_only_gateways,
                )
            };
            let id = required(item, name, "a gateway")?;
            let attached_vpcs = list(item, "Attachments")
                .iter()
                .filter(|a| text(a, "State").is_none_or(|s| s == "available" || s == "attached"))
                .filter_map(|a| text(a, "VpcId"))
                .map(str::to_string)
                .collect();
            gateways.push(Gateway { id, attached_vpcs });
        }
        "AWS::EC2::Subnet" => {
            let id = required(item, "SubnetId", "a subnet")?;
            let vpc = required(item, "VpcId", &id)?;
            network.subnets.insert(id, vpc);
        }
        // Other items of an export: not part of the network.
        _ => {}
    }
    Ok(())
}

fn read_route(route: &Value, table: &str) -> Result<Route, ReadError> {
    let field = |name: &str| text(route, name);
    RouteFields {
        destination_cidr: field("DestinationCidrBlock"),
        destination_ipv6_cidr: field("DestinationIpv6CidrBlock"),
        destination_prefix_list: field("DestinationPrefixListId"),
        gateway: field("GatewayId"),
        egress_only_internet_gateway: field("EgressOnlyInternetGatewayId"),
        nat_gateway: field("NatGatewayId"),
        carrier_gateway: field("CarrierGatewayId"),
        vpc_peering_connection: field("VpcPeeringConnectionId"),
        transit_gateway: field("TransitGatewayId"),
        core_network: field("CoreNetworkArn"),
        local_gateway: field("LocalGatewayId"),
        network_interface: field("NetworkInterfaceId"),
        instance: field("InstanceId"),
        state: field("State"),
    }
    .route(table)
    .map_err(|m| ReadError::new("", m))
}
