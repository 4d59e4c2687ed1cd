//! The network around groups, for effective exposure (SPEC_EXPOSURE §2):
//! the AWS CLI outputs of `describe-network-interfaces`,
//! `describe-route-tables`, `describe-nat-gateways`,
//! `describe-internet-gateways`, `describe-egress-only-internet-gateways`
//! (and `describe-subnets`, accepted and not needed), or configuration
//! items of the matching `AWS::EC2::*` types (a `SelectResourceConfig`
//! export, a list of items, one item).
//!
//! The document is told apart by its keys; each resource is then read into
//! a typed wire struct (the API's PascalCase names, Config's camelCase as
//! aliases, `null` as missing), with the field path in every error, and
//! converted into the model once, here.

use super::error::{locate, path_text};
use super::ReadError;
use crate::exposure::{Gateway, Interface, NatGateway, Network, Route, RouteFields, RouteTable};
use serde::de::{Deserialize, DeserializeOwned, Deserializer, IgnoredAny};
use serde_json::Value;

/// Reads one network file into `network`. Every VPC a route table is read
/// for counts as read (LATENT and ISOLATED still need its main table); a
/// listing of interfaces counts as the account's.
pub fn read_network(bytes: &[u8], network: &mut Network) -> Result<(), ReadError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ReadError::new("", format!("not valid JSON: {e}")))?;
    read_value(&value, "", network)
}

/// The resource types this reader knows, by the key of their CLI listing.
const LISTINGS: [(&str, &str); 6] = [
    ("NetworkInterfaces", "AWS::EC2::NetworkInterface"),
    ("RouteTables", "AWS::EC2::RouteTable"),
    ("NatGateways", "AWS::EC2::NatGateway"),
    ("InternetGateways", "AWS::EC2::InternetGateway"),
    (
        "EgressOnlyInternetGateways",
        "AWS::EC2::EgressOnlyInternetGateway",
    ),
    ("Subnets", "AWS::EC2::Subnet"),
];

fn at(path: &str, segment: &str) -> String {
    match (path.is_empty(), segment.starts_with('[')) {
        (true, _) => segment.to_string(),
        (false, true) => format!("{path}{segment}"),
        (false, false) => format!("{path}.{segment}"),
    }
}

fn read_value(value: &Value, path: &str, network: &mut Network) -> Result<(), ReadError> {
    let map = match value {
        Value::Array(items) => {
            return items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| read_value(item, &at(path, &format!("[{i}]")), network))
        }
        Value::Object(map) => map,
        other => {
            return Err(ReadError::new(
                path,
                format!("a network input must be a JSON object or list, found {other}"),
            ))
        }
    };
    // A SelectResourceConfig export: each result is JSON text.
    if let Some(results) = map.get("Results").and_then(Value::as_array) {
        for (i, result) in results.iter().enumerate() {
            let here = at(path, &format!("Results[{i}]"));
            let item = json_or_text(result, &here)?;
            read_value(&item, &here, network)?;
        }
        return Ok(());
    }
    if let Some(items) = map.get("configurationItems").and_then(Value::as_array) {
        return items.iter().enumerate().try_for_each(|(i, item)| {
            read_value(
                item,
                &at(path, &format!("configurationItems[{i}]")),
                network,
            )
        });
    }
    if let Some(kind) = map.get("resourceType").and_then(Value::as_str) {
        let here = at(path, "configuration");
        let configuration = map.get("configuration").ok_or_else(|| {
            ReadError::new(path, format!("a {kind} item without its configuration"))
        })?;
        let configuration = json_or_text(configuration, &here)?;
        return read_resource(kind, &configuration, &here, network);
    }
    let mut known = false;
    for (key, kind) in LISTINGS {
        if let Some(items) = map.get(key).and_then(Value::as_array) {
            known = true;
            // A listing of the account's interfaces: a group none lists has none.
            network.all_interfaces_read |= key == "NetworkInterfaces";
            for (i, item) in items.iter().enumerate() {
                read_resource(kind, item, &at(path, &format!("{key}[{i}]")), network)?;
            }
        }
    }
    if known {
        return Ok(());
    }
    let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
    Err(ReadError::new(path, format!(
        "not a network input (expected the output of describe-network-interfaces, describe-route-tables, describe-nat-gateways, describe-internet-gateways, describe-egress-only-internet-gateways, or Config items of those types); found keys: {}",
        keys.join(", ")
    )))
}

/// A value that is either JSON or JSON text (Config's `configuration`, an
/// export's result).
fn json_or_text(value: &Value, path: &str) -> Result<Value, ReadError> {
    match value {
        Value::String(text) => serde_json::from_str(text)
            .map_err(|e| ReadError::new(path, format!("not JSON text: {e}"))),
        other => Ok(other.clone()),
    }
}

/// One resource read into its wire struct, the error naming the field.
fn typed<T: DeserializeOwned>(value: &Value, path: &str) -> Result<T, ReadError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| locate(path, &path_text(e.path()), &e.inner().to_string()))
}

fn read_resource(
    kind: &str,
    value: &Value,
    path: &str,
    network: &mut Network,
) -> Result<(), ReadError> {
    let required = |field: Option<String>, name: &str| {
        field.ok_or_else(|| ReadError::new(path, format!("{name} is missing")))
    };
    match kind {
        "AWS::EC2::NetworkInterface" => {
            let wire: WireInterface = typed(value, path)?;
            let public =
                |a: &Option<WireAssociation>| a.as_ref().is_some_and(|a| present(&a.public_ip));
            let interface = Interface {
                id: required(wire.id, "NetworkInterfaceId")?,
                subnet_id: required(wire.subnet_id, "SubnetId")?,
                vpc_id: required(wire.vpc_id, "VpcId")?,
                groups: wire.groups.into_iter().filter_map(|g| g.group_id).collect(),
                public_ipv4: public(&wire.association)
                    || wire
                        .private_ip_addresses
                        .iter()
                        .any(|p| public(&p.association)),
                ipv6: !wire.ipv6_addresses.is_empty() || present(&wire.ipv6_address),
                carrier_ip: wire
                    .association
                    .as_ref()
                    .is_some_and(|a| present(&a.carrier_ip)),
            };
            // A listing of interfaces (CLI output or Config items) is taken as
            // the account's: a group none lists has none.
            network.all_interfaces_read = true;
            network.interfaces.push(interface);
        }
        "AWS::EC2::RouteTable" => {
            let wire: WireRouteTable = typed(value, path)?;
            let id = required(wire.id, "RouteTableId")?;
            let vpc_id = required(wire.vpc_id, "VpcId")?;
            let main = wire.associations.iter().any(|a| a.main == Some(true));
            let subnets = wire
                .associations
                .into_iter()
                .filter(|a| {
                    a.association_state
                        .as_ref()
                        .and_then(|s| s.state.as_deref())
                        .is_none_or(|s| s == "associated")
                })
                .filter_map(|a| a.subnet_id)
                .collect();
            let routes = wire
                .routes
                .iter()
                .enumerate()
                .map(|(i, route)| {
                    route
                        .route(&id)
                        .map_err(|m| ReadError::new(at(path, &format!("Routes[{i}]")), m))
                })
                .collect::<Result<Vec<Route>, ReadError>>()?;
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
            let wire: WireNatGateway = typed(value, path)?;
            network.nat_gateways.push(NatGateway {
                id: required(wire.id, "NatGatewayId")?,
                subnet_id: required(wire.subnet_id, "SubnetId")?,
                vpc_id: required(wire.vpc_id, "VpcId")?,
                public: public_nat(wire.connectivity_type.as_deref()),
                available: available_nat(wire.state.as_deref()),
            });
        }
        "AWS::EC2::InternetGateway" | "AWS::EC2::EgressOnlyInternetGateway" => {
            let wire: WireGateway = typed(value, path)?;
            let (id, name, gateways) = if kind == "AWS::EC2::InternetGateway" {
                (
                    wire.internet_gateway_id,
                    "InternetGatewayId",
                    &mut network.internet_gateways,
                )
            } else {
                (
                    wire.egress_only_internet_gateway_id,
                    "EgressOnlyInternetGatewayId",
                    &mut network.egress_only_gateways,
                )
            };
            let attached_vpcs = wire
                .attachments
                .into_iter()
                .filter(|a| a.state.as_deref().is_none_or(attached))
                .filter_map(|a| a.vpc_id)
                .collect();
            gateways.push(Gateway {
                id: required(id, name)?,
                attached_vpcs,
            });
        }
        "AWS::EC2::Subnet" => {
            let wire: WireSubnet = typed(value, path)?;
            let id = required(wire.id, "SubnetId")?;
            network.subnets.insert(id, required(wire.vpc_id, "VpcId")?);
        }
        // Other items of an export: not part of the network.
        _ => {}
    }
    Ok(())
}

/// A NAT gateway is public unless it says private (the default, and older
/// outputs say nothing). Shared with the SDK adapter.
pub fn public_nat(connectivity_type: Option<&str>) -> bool {
    connectivity_type.is_none_or(|c| c.eq_ignore_ascii_case("public"))
}

/// A NAT gateway is available unless its state says otherwise (a missing
/// state cannot hide a way out). Shared with the SDK adapter.
pub fn available_nat(state: Option<&str>) -> bool {
    state.is_none_or(|s| s.eq_ignore_ascii_case("available"))
}

/// A gateway attachment that carries traffic. Shared with the SDK adapter.
pub fn attached(state: &str) -> bool {
    state == "available" || state == "attached"
}

fn present(text: &Option<String>) -> bool {
    text.as_deref().is_some_and(|t| !t.is_empty())
}

/// A string member: `null` and `""` are missing.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// A list member: `null` is the empty list.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(serde::Deserialize)]
struct WireInterface {
    #[serde(
        rename = "NetworkInterfaceId",
        alias = "networkInterfaceId",
        default,
        deserialize_with = "text"
    )]
    id: Option<String>,
    #[serde(
        rename = "SubnetId",
        alias = "subnetId",
        default,
        deserialize_with = "text"
    )]
    subnet_id: Option<String>,
    #[serde(rename = "VpcId", alias = "vpcId", default, deserialize_with = "text")]
    vpc_id: Option<String>,
    #[serde(
        rename = "Groups",
        alias = "groups",
        default,
        deserialize_with = "list"
    )]
    groups: Vec<WireGroupRef>,
    #[serde(rename = "Association", alias = "association", default)]
    association: Option<WireAssociation>,
    #[serde(
        rename = "PrivateIpAddresses",
        alias = "privateIpAddresses",
        default,
        deserialize_with = "list"
    )]
    private_ip_addresses: Vec<WirePrivateAddress>,
    #[serde(
        rename = "Ipv6Addresses",
        alias = "ipv6Addresses",
        default,
        deserialize_with = "list"
    )]
    ipv6_addresses: Vec<IgnoredAny>,
    #[serde(
        rename = "Ipv6Address",
        alias = "ipv6Address",
        default,
        deserialize_with = "text"
    )]
    ipv6_address: Option<String>,
}

#[derive(serde::Deserialize)]
struct WireGroupRef {
    #[serde(
        rename = "GroupId",
        alias = "groupId",
        default,
        deserialize_with = "text"
    )]
    group_id: Option<String>,
}

#[derive(serde::Deserialize)]
struct WireAssociation {
    #[serde(
        rename = "PublicIp",
        alias = "publicIp",
        default,
        deserialize_with = "text"
    )]
    public_ip: Option<String>,
    #[serde(
        rename = "CarrierIp",
        alias = "carrierIp",
        default,
        deserialize_with = "text"
    )]
    carrier_ip: Option<String>,
}

#[derive(serde::Deserialize)]
struct WirePrivateAddress {
    #[serde(rename = "Association", alias = "association", default)]
    association: Option<WireAssociation>,
}

#[derive(serde::Deserialize)]
struct WireRouteTable {
    #[serde(
        rename = "RouteTableId",
        alias = "routeTableId",
        default,
        deserialize_with = "text"
    )]
    id: Option<String>,
    #[serde(rename = "VpcId", alias = "vpcId", default, deserialize_with = "text")]
    vpc_id: Option<String>,
    #[serde(
        rename = "Associations",
        alias = "associations",
        default,
        deserialize_with = "list"
    )]
    associations: Vec<WireAssociationOfTable>,
    #[serde(
        rename = "Routes",
        alias = "routes",
        default,
        deserialize_with = "list"
    )]
    routes: Vec<WireRoute>,
}

#[derive(serde::Deserialize)]
struct WireAssociationOfTable {
    #[serde(rename = "Main", alias = "main", default)]
    main: Option<bool>,
    #[serde(
        rename = "SubnetId",
        alias = "subnetId",
        default,
        deserialize_with = "text"
    )]
    subnet_id: Option<String>,
    #[serde(rename = "AssociationState", alias = "associationState", default)]
    association_state: Option<WireState>,
}

#[derive(serde::Deserialize)]
struct WireState {
    #[serde(rename = "State", alias = "state", default, deserialize_with = "text")]
    state: Option<String>,
}

#[derive(serde::Deserialize)]
struct WireRoute {
    #[serde(
        rename = "DestinationCidrBlock",
        alias = "destinationCidrBlock",
        default,
        deserialize_with = "text"
    )]
    destination_cidr: Option<String>,
    #[serde(
        rename = "DestinationIpv6CidrBlock",
        alias = "destinationIpv6CidrBlock",
        default,
        deserialize_with = "text"
    )]
    destination_ipv6_cidr: Option<String>,
    #[serde(
        rename = "DestinationPrefixListId",
        alias = "destinationPrefixListId",
        default,
        deserialize_with = "text"
    )]
    destination_prefix_list: Option<String>,
    #[serde(
        rename = "GatewayId",
        alias = "gatewayId",
        default,
        deserialize_with = "text"
    )]
    gateway: Option<String>,
    #[serde(
        rename = "EgressOnlyInternetGatewayId",
        alias = "egressOnlyInternetGatewayId",
        default,
        deserialize_with = "text"
    )]
    egress_only_internet_gateway: Option<String>,
    #[serde(
        rename = "NatGatewayId",
        alias = "natGatewayId",
        default,
        deserialize_with = "text"
    )]
    nat_gateway: Option<String>,
    #[serde(
        rename = "CarrierGatewayId",
        alias = "carrierGatewayId",
        default,
        deserialize_with = "text"
    )]
    carrier_gateway: Option<String>,
    #[serde(
        rename = "VpcPeeringConnectionId",
        alias = "vpcPeeringConnectionId",
        default,
        deserialize_with = "text"
    )]
    vpc_peering_connection: Option<String>,
    #[serde(
        rename = "TransitGatewayId",
        alias = "transitGatewayId",
        default,
        deserialize_with = "text"
    )]
    transit_gateway: Option<String>,
    #[serde(
        rename = "CoreNetworkArn",
        alias = "coreNetworkArn",
        default,
        deserialize_with = "text"
    )]
    core_network: Option<String>,
    #[serde(
        rename = "LocalGatewayId",
        alias = "localGatewayId",
        default,
        deserialize_with = "text"
    )]
    local_gateway: Option<String>,
    #[serde(
        rename = "NetworkInterfaceId",
        alias = "networkInterfaceId",
        default,
        deserialize_with = "text"
    )]
    network_interface: Option<String>,
    #[serde(
        rename = "InstanceId",
        alias = "instanceId",
        default,
        deserialize_with = "text"
    )]
    instance: Option<String>,
    #[serde(rename = "State", alias = "state", default, deserialize_with = "text")]
    state: Option<String>,
}

impl WireRoute {
    fn route(&self, table: &str) -> Result<Route, String> {
        RouteFields {
            destination_cidr: self.destination_cidr.as_deref(),
            destination_ipv6_cidr: self.destination_ipv6_cidr.as_deref(),
            destination_prefix_list: self.destination_prefix_list.as_deref(),
            gateway: self.gateway.as_deref(),
            egress_only_internet_gateway: self.egress_only_internet_gateway.as_deref(),
            nat_gateway: self.nat_gateway.as_deref(),
            carrier_gateway: self.carrier_gateway.as_deref(),
            vpc_peering_connection: self.vpc_peering_connection.as_deref(),
            transit_gateway: self.transit_gateway.as_deref(),
            core_network: self.core_network.as_deref(),
            local_gateway: self.local_gateway.as_deref(),
            network_interface: self.network_interface.as_deref(),
            instance: self.instance.as_deref(),
            state: self.state.as_deref(),
        }
        .route(table)
    }
}

#[derive(serde::Deserialize)]
struct WireNatGateway {
    #[serde(
        rename = "NatGatewayId",
        alias = "natGatewayId",
        default,
        deserialize_with = "text"
    )]
    id: Option<String>,
    #[serde(
        rename = "SubnetId",
        alias = "subnetId",
        default,
        deserialize_with = "text"
    )]
    subnet_id: Option<String>,
    #[serde(rename = "VpcId", alias = "vpcId", default, deserialize_with = "text")]
    vpc_id: Option<String>,
    #[serde(
        rename = "ConnectivityType",
        alias = "connectivityType",
        default,
        deserialize_with = "text"
    )]
    connectivity_type: Option<String>,
    #[serde(rename = "State", alias = "state", default, deserialize_with = "text")]
    state: Option<String>,
}

#[derive(serde::Deserialize)]
struct WireGateway {
    #[serde(
        rename = "InternetGatewayId",
        alias = "internetGatewayId",
        default,
        deserialize_with = "text"
    )]
    internet_gateway_id: Option<String>,
    #[serde(
        rename = "EgressOnlyInternetGatewayId",
        alias = "egressOnlyInternetGatewayId",
        default,
        deserialize_with = "text"
    )]
    egress_only_internet_gateway_id: Option<String>,
    #[serde(
        rename = "Attachments",
        alias = "attachments",
        default,
        deserialize_with = "list"
    )]
    attachments: Vec<WireAttachment>,
}

#[derive(serde::Deserialize)]
struct WireAttachment {
    #[serde(rename = "VpcId", alias = "vpcId", default, deserialize_with = "text")]
    vpc_id: Option<String>,
    #[serde(rename = "State", alias = "state", default, deserialize_with = "text")]
    state: Option<String>,
}

#[derive(serde::Deserialize)]
struct WireSubnet {
    #[serde(
        rename = "SubnetId",
        alias = "subnetId",
        default,
        deserialize_with = "text"
    )]
    id: Option<String>,
    #[serde(rename = "VpcId", alias = "vpcId", default, deserialize_with = "text")]
    vpc_id: Option<String>,
}
