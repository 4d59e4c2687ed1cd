//! Reads the network around open groups for effective exposure
//! (SPEC_EXPOSURE §2): each VPC's route tables, NAT gateways, internet
//! gateways and egress-only internet gateways once, and the network
//! interfaces of the groups (or of the VPCs). A VPC whose network cannot be
//! read is recorded as unreadable, with why: its groups' exposure is then
//! UNKNOWN, never guessed, and the findings are sent all the same.

use super::ec2::prefix_list_entries;
use super::{describe, Deadline, Error};
use aws_sdk_ec2::types::Filter;
use sg_egress_core::cidr::Cidr;
use sg_egress_core::exposure::{
    Destination, Gateway, Interface, NatGateway, Network, RouteFields, RouteTable,
};
use sg_egress_core::read::network::{attached, available_nat, public_nat};
use std::collections::BTreeSet;

/// EC2 takes at most 200 values per filter; VPCs are asked for in chunks.
const VPCS_PER_CALL: usize = 100;

/// Whose interfaces to read.
pub enum InterfacesOf<'a> {
    /// The interfaces that carry these groups (a change event).
    Groups(&'a [String]),
    /// Every interface of the VPCs (a sweep).
    Vpcs,
    /// Already read: every interface of the region (a sweep that ignores
    /// unused groups has read them).
    Known(Vec<Interface>),
    /// Already read: the interfaces of these groups.
    KnownFor(&'a [String], Vec<Interface>),
}

/// Reads the network of `vpcs`. Only the deadline stops it with an error.
pub async fn read_network(
    ec2: &aws_sdk_ec2::Client,
    vpcs: &BTreeSet<String>,
    interfaces_of: InterfacesOf<'_>,
    deadline: Deadline,
) -> Result<Network, Error> {
    let mut network = Network::default();
    let vpc_list: Vec<String> = vpcs.iter().cloned().collect();
    for chunk in vpc_list.chunks(VPCS_PER_CALL) {
        match read_chunk(ec2, chunk, &mut network, deadline).await {
            Ok(()) => network.complete_vpcs.extend(chunk.iter().cloned()),
            Err(e @ Error::Deadline(_)) => return Err(e),
            Err(e) => {
                tracing_warn(&e);
                for vpc in chunk {
                    network.unreadable.insert(vpc.clone(), e.to_string());
                }
            }
        }
    }
    let interfaces = match &interfaces_of {
        InterfacesOf::Groups(groups) => {
            read_interfaces(ec2, Some(("group-id", groups)), deadline).await
        }
        InterfacesOf::Vpcs => read_interfaces(ec2, Some(("vpc-id", &vpc_list)), deadline).await,
        InterfacesOf::Known(interfaces) | InterfacesOf::KnownFor(_, interfaces) => {
            Ok(interfaces.clone())
        }
    };
    match interfaces {
        Ok(interfaces) => {
            match interfaces_of {
                InterfacesOf::Groups(groups) | InterfacesOf::KnownFor(groups, _) => {
                    network.interfaces_read_for.extend(groups.iter().cloned())
                }
                InterfacesOf::Vpcs => network
                    .interfaces_read_for_vpcs
                    .extend(vpc_list.iter().cloned()),
                InterfacesOf::Known(_) => network.all_interfaces_read = true,
            }
            network.interfaces = interfaces;
        }
        Err(e @ Error::Deadline(_)) => return Err(e),
        Err(e) => tracing_warn(&e),
    }
    Ok(network)
}

fn tracing_warn(error: &Error) {
    lambda_runtime::tracing::warn!(error = %error, "the network around open groups could not be read: their exposure is unknown");
}

/// The route tables, NAT gateways and gateways of some VPCs; the entries of
/// the prefix lists their routes name.
async fn read_chunk(
    ec2: &aws_sdk_ec2::Client,
    vpcs: &[String],
    network: &mut Network,
    deadline: Deadline,
) -> Result<(), Error> {
    let by_vpc = |name: &str| {
        Filter::builder()
            .name(name)
            .set_values(Some(vpcs.to_vec()))
            .build()
    };
    let mut pages = ec2
        .describe_route_tables()
        .filters(by_vpc("vpc-id"))
        .max_results(100)
        .into_paginator()
        .send();
    loop {
        deadline.check(|| "reading route tables".to_string())?;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| describe("ec2:DescribeRouteTables", e))?;
        for table in page.route_tables() {
            network
                .route_tables
                .push(route_table(table).map_err(|m| Error::call("ec2:DescribeRouteTables", m))?);
        }
    }
    let mut pages = ec2
        .describe_nat_gateways()
        .filter(by_vpc("vpc-id"))
        .max_results(1000)
        .into_paginator()
        .send();
    loop {
        deadline.check(|| "reading NAT gateways".to_string())?;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| describe("ec2:DescribeNatGateways", e))?;
        for nat in page.nat_gateways() {
            network.nat_gateways.push(NatGateway {
                id: nat.nat_gateway_id().unwrap_or_default().to_string(),
                subnet_id: nat.subnet_id().unwrap_or_default().to_string(),
                vpc_id: nat.vpc_id().unwrap_or_default().to_string(),
                public: public_nat(nat.connectivity_type().map(|c| c.as_str())),
                available: available_nat(nat.state().map(|s| s.as_str())),
            });
        }
    }
    let mut pages = ec2
        .describe_internet_gateways()
        .filters(by_vpc("attachment.vpc-id"))
        .max_results(1000)
        .into_paginator()
        .send();
    loop {
        deadline.check(|| "reading internet gateways".to_string())?;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| describe("ec2:DescribeInternetGateways", e))?;
        for gateway in page.internet_gateways() {
            network.internet_gateways.push(gateway_of(
                gateway.internet_gateway_id(),
                gateway.attachments(),
            ));
        }
    }
    // No VPC filter exists for these: every one of the region, each page once.
    if network.egress_only_gateways.is_empty() {
        let mut pages = ec2
            .describe_egress_only_internet_gateways()
            .max_results(255)
            .into_paginator()
            .send();
        loop {
            deadline.check(|| "reading egress-only internet gateways".to_string())?;
            let Some(page) = pages.next().await else {
                break;
            };
            let page = page.map_err(|e| describe("ec2:DescribeEgressOnlyInternetGateways", e))?;
            for gateway in page.egress_only_internet_gateways() {
                network.egress_only_gateways.push(gateway_of(
                    gateway.egress_only_internet_gateway_id(),
                    gateway.attachments(),
                ));
            }
        }
    }
    let lists: BTreeSet<String> = network
        .route_tables
        .iter()
        .flat_map(|t| &t.routes)
        .filter_map(|r| match &r.destination {
            Destination::PrefixList(id) if !network.prefix_lists.contains_key(id) => {
                Some(id.clone())
            }
            _ => None,
        })
        .collect();
    if !lists.is_empty() {
        let read = prefix_list_entries(ec2, &lists, deadline).await?;
        for id in &lists {
            if let Some(entries) = read.known.get(id) {
                network.prefix_lists.insert(
                    id.clone(),
                    entries.iter().map(|(_, c)| *c).collect::<Vec<Cidr>>(),
                );
            }
        }
    }
    Ok(())
}

/// A gateway and the VPCs it is attached to (attachments `available`, as
/// internet gateways say, or `attached`, as egress-only ones do).
fn gateway_of(
    id: Option<&str>,
    attachments: &[aws_sdk_ec2::types::InternetGatewayAttachment],
) -> Gateway {
    Gateway {
        id: id.unwrap_or_default().to_string(),
        attached_vpcs: attachments
            .iter()
            .filter(|a| a.state().is_none_or(|s| attached(s.as_str())))
            .filter_map(|a| a.vpc_id().map(str::to_string))
            .collect(),
    }
}

fn route_table(table: &aws_sdk_ec2::types::RouteTable) -> Result<RouteTable, String> {
    let id = table.route_table_id().unwrap_or_default().to_string();
    let associations = table.associations();
    let mut routes = Vec::new();
    for route in table.routes() {
        routes.push(
            RouteFields {
                destination_cidr: route.destination_cidr_block(),
                destination_ipv6_cidr: route.destination_ipv6_cidr_block(),
                destination_prefix_list: route.destination_prefix_list_id(),
                gateway: route.gateway_id(),
                egress_only_internet_gateway: route.egress_only_internet_gateway_id(),
                nat_gateway: route.nat_gateway_id(),
                carrier_gateway: route.carrier_gateway_id(),
                vpc_peering_connection: route.vpc_peering_connection_id(),
                transit_gateway: route.transit_gateway_id(),
                core_network: route.core_network_arn(),
                local_gateway: route.local_gateway_id(),
                network_interface: route.network_interface_id(),
                instance: route.instance_id(),
                state: route.state().map(|s| s.as_str()),
            }
            .route(&id)?,
        );
    }
    Ok(RouteTable {
        vpc_id: table.vpc_id().unwrap_or_default().to_string(),
        main: associations.iter().any(|a| a.main() == Some(true)),
        subnets: associations
            .iter()
            .filter(|a| {
                a.association_state()
                    .and_then(|s| s.state())
                    .is_none_or(|s| s.as_str() == "associated")
            })
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        routes,
        id,
    })
}

/// The interfaces whose `filter` (`group-id` or `vpc-id`) is one of the
/// values; every interface of the region when there is no filter.
pub async fn read_interfaces(
    ec2: &aws_sdk_ec2::Client,
    filter: Option<(&str, &[String])>,
    deadline: Deadline,
) -> Result<Vec<Interface>, Error> {
    let mut out = Vec::new();
    let chunks: Vec<Option<Filter>> = match filter {
        None => vec![None],
        Some((name, values)) => values
            .chunks(VPCS_PER_CALL)
            .map(|chunk| {
                Some(
                    Filter::builder()
                        .name(name)
                        .set_values(Some(chunk.to_vec()))
                        .build(),
                )
            })
            .collect(),
    };
    for chunk in chunks {
        let mut pages = ec2
            .describe_network_interfaces()
            .set_filters(chunk.map(|f| vec![f]))
            .max_results(1000)
            .into_paginator()
            .send();
        loop {
            deadline.check(|| "reading network interfaces".to_string())?;
            let Some(page) = pages.next().await else {
                break;
            };
            let page = page.map_err(|e| describe("ec2:DescribeNetworkInterfaces", e))?;
            for interface in page.network_interfaces() {
                out.push(Interface {
                    id: interface
                        .network_interface_id()
                        .unwrap_or_default()
                        .to_string(),
                    subnet_id: interface.subnet_id().unwrap_or_default().to_string(),
                    vpc_id: interface.vpc_id().unwrap_or_default().to_string(),
                    groups: interface
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                    public_ipv4: interface
                        .association()
                        .and_then(|a| a.public_ip())
                        .is_some()
                        || interface
                            .private_ip_addresses()
                            .iter()
                            .any(|p| p.association().and_then(|a| a.public_ip()).is_some()),
                    ipv6: !interface.ipv6_addresses().is_empty(),
                    carrier_ip: interface
                        .association()
                        .and_then(|a| a.carrier_ip())
                        .is_some(),
                });
            }
        }
    }
    Ok(out)
}
