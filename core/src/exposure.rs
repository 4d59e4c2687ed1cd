//! Effective exposure (SPEC_EXPOSURE.md): whether the network around an open
//! group lets its traffic reach the internet, per address family.
//!
//! For each interface that carries the group: its subnet's route table (the
//! explicit association, else its own VPC's main table; gateway "edge"
//! associations are not subnet associations), then, over every public
//! address of the family, the target of the longest-prefix match among the
//! table's active routes. The class of the best target over the group's
//! interfaces is the group's exposure; with no reaching interface, LATENT
//! when some table of the VPC routes a public destination anywhere but
//! `local`, else ISOLATED. A missing input gives UNKNOWN, never a guess.
//!
//! Routes are compared as address ranges: a route's destination "reaches"
//! its target for the public addresses inside it that no more specific
//! active route of the same table takes.

use crate::cidr::{Cidr, Family};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The exposure of a group on one family, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Through an attached internet gateway with a public address, an
    /// egress-only internet gateway, or a carrier gateway.
    Direct { via: String },
    /// Through an available public NAT gateway whose subnet reaches an
    /// attached internet gateway.
    ViaNat { via: String },
    /// Through something this account cannot see past (a transit gateway,
    /// a virtual private gateway, an appliance, …).
    Indirect { via: String },
    /// No interface reaches out, but some route of the VPC could carry
    /// traffic out for an interface attached later.
    Latent { route: String },
    /// No route table of the VPC routes a public address anywhere but `local`.
    Isolated,
    /// A needed input is missing: said, never guessed.
    Unknown { missing: String },
}

impl Exposure {
    /// The class's name, as tables show it.
    pub fn class(&self) -> &'static str {
        match self {
            Exposure::Direct { .. } => "DIRECT",
            Exposure::ViaNat { .. } => "VIA_NAT",
            Exposure::Indirect { .. } => "INDIRECT",
            Exposure::Latent { .. } => "LATENT",
            Exposure::Isolated => "ISOLATED",
            Exposure::Unknown { .. } => "UNKNOWN",
        }
    }

    /// Priority order: the most exposed first (UNKNOWN last).
    pub fn rank(&self) -> u8 {
        match self {
            Exposure::Direct { .. } => 0,
            Exposure::ViaNat { .. } => 1,
            Exposure::Indirect { .. } => 2,
            Exposure::Latent { .. } => 3,
            Exposure::Isolated => 4,
            Exposure::Unknown { .. } => 5,
        }
    }
}

impl fmt::Display for Exposure {
    /// The words of the annotation (`direct via igw-0abc`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::Direct { via } => write!(f, "direct via {via}"),
            Exposure::ViaNat { via } => write!(f, "via {via}"),
            Exposure::Indirect { via } => write!(f, "indirect via {via}"),
            Exposure::Latent { route } => write!(f, "latent ({route})"),
            Exposure::Isolated => f.write_str("isolated"),
            Exposure::Unknown { missing } => write!(f, "unknown ({missing})"),
        }
    }
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local,
    InternetGateway(String),
    EgressOnlyInternetGateway(String),
    NatGateway(String),
    CarrierGateway(String),
    /// Peering: no transit through a peer's gateways.
    Peering(String),
    /// A gateway endpoint (S3, DynamoDB): AWS's network, not the internet.
    GatewayEndpoint(String),
    /// Transit gateway, virtual private gateway, core network, interface,
    /// instance, Gateway Load Balancer endpoint, local gateway, or anything
    /// else: the path leaves what this account can see.
    Beyond(String),
}

impl Target {
    fn id(&self) -> &str {
        match self {
            Target::Local => "local",
            Target::InternetGateway(id)
            | Target::EgressOnlyInternetGateway(id)
            | Target::NatGateway(id)
            | Target::CarrierGateway(id)
            | Target::Peering(id)
            | Target::GatewayEndpoint(id)
            | Target::Beyond(id) => id,
        }
    }
}

/// A route's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Cidr(Cidr),
    /// A managed prefix list, expanded when its entries are known.
    PrefixList(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub destination: Destination,
    pub target: Target,
    /// `false` for a blackhole route (its target deleted or detached).
    pub active: bool,
}

/// A route as EC2 describes it, field by field (from the API, the CLI's
/// output or a Config item), to be made a [`Route`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteFields<'a> {
    pub destination_cidr: Option<&'a str>,
    pub destination_ipv6_cidr: Option<&'a str>,
    pub destination_prefix_list: Option<&'a str>,
    pub gateway: Option<&'a str>,
    pub egress_only_internet_gateway: Option<&'a str>,
    pub nat_gateway: Option<&'a str>,
    pub carrier_gateway: Option<&'a str>,
    pub vpc_peering_connection: Option<&'a str>,
    pub transit_gateway: Option<&'a str>,
    pub core_network: Option<&'a str>,
    pub local_gateway: Option<&'a str>,
    pub network_interface: Option<&'a str>,
    pub instance: Option<&'a str>,
    pub state: Option<&'a str>,
}

impl RouteFields<'_> {
    /// The route, or why it cannot be one (`table` names where).
    pub fn route(&self, table: &str) -> Result<Route, String> {
        let some = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
        let destination = if let Some(cidr) =
            some(self.destination_cidr).or_else(|| some(self.destination_ipv6_cidr))
        {
            Destination::Cidr(Cidr::parse(&cidr).ok_or_else(|| {
                format!("{table}: route destination {cidr:?} is not a CIDR block")
            })?)
        } else if let Some(list) = some(self.destination_prefix_list) {
            Destination::PrefixList(list)
        } else {
            return Err(format!("{table}: a route without a destination"));
        };
        let gateway = some(self.gateway);
        let target = if gateway.as_deref() == Some("local") {
            Target::Local
        } else if let Some(id) = gateway.clone().filter(|g| g.starts_with("igw-")) {
            Target::InternetGateway(id)
        } else if let Some(id) = some(self.egress_only_internet_gateway) {
            Target::EgressOnlyInternetGateway(id)
        } else if let Some(id) = some(self.nat_gateway) {
            Target::NatGateway(id)
        } else if let Some(id) = some(self.carrier_gateway) {
            Target::CarrierGateway(id)
        } else if let Some(id) = some(self.vpc_peering_connection) {
            Target::Peering(id)
        } else if let Some(id) = gateway.clone().filter(|g| g.starts_with("vpce-")) {
            // A gateway endpoint's routes go to its service's prefix list; a
            // Gateway Load Balancer endpoint takes CIDR blocks onward.
            if matches!(destination, Destination::PrefixList(_)) {
                Target::GatewayEndpoint(id)
            } else {
                Target::Beyond(id)
            }
        } else if let Some(id) = some(self.transit_gateway)
            .or_else(|| some(self.core_network))
            .or_else(|| some(self.local_gateway))
            .or_else(|| some(self.network_interface))
            .or_else(|| some(self.instance))
            .or(gateway)
        {
            // Transit and virtual private gateways, core networks, appliances:
            // the path leaves what this account can see.
            Target::Beyond(id)
        } else {
            return Err(format!("{table}: a route without a target"));
        };
        Ok(Route {
            destination,
            target,
            active: self.state.is_none_or(|s| s != "blackhole"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    /// The VPC's main table.
    pub main: bool,
    /// Subnets explicitly associated (gateway associations are not here).
    pub subnets: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub groups: Vec<String>,
    /// A public IPv4 address (an Elastic IP or an auto-assigned one).
    pub public_ipv4: bool,
    /// At least one IPv6 address (every one is globally routable).
    pub ipv6: bool,
    /// A carrier IP (Wavelength).
    pub carrier_ip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    /// `ConnectivityType` public (private NAT gateways reach no internet).
    pub public: bool,
    /// `State` available.
    pub available: bool,
}

/// An internet or egress-only internet gateway and the VPCs it is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gateway {
    pub id: String,
    pub attached_vpcs: Vec<String>,
}

/// What is known of the network of one or more VPCs. Each list holds what
/// was read; `complete_vpcs` names the VPCs whose subnets, route tables,
/// NAT gateways and gateways were all read (a VPC not named there is
/// UNKNOWN, whatever the lists hold for it).
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub interfaces: Vec<Interface>,
    pub subnets: BTreeMap<String, String>,
    pub route_tables: Vec<RouteTable>,
    pub nat_gateways: Vec<NatGateway>,
    pub internet_gateways: Vec<Gateway>,
    pub egress_only_gateways: Vec<Gateway>,
    /// Entries of managed prefix lists that routes name.
    pub prefix_lists: BTreeMap<String, Vec<Cidr>>,
    pub complete_vpcs: BTreeSet<String>,
    /// Groups whose interfaces were all read.
    pub interfaces_read_for: BTreeSet<String>,
    /// VPCs whose interfaces were all read (a group of one with no
    /// interface listed has none).
    pub interfaces_read_for_vpcs: BTreeSet<String>,
    /// Every interface of the account was read (an offline listing).
    pub all_interfaces_read: bool,
    /// Why a VPC could not be read, when it could not.
    pub unreadable: BTreeMap<String, String>,
}

/// The ranges of a family's public addresses: everything but private,
/// shared, loopback, link-local, documentation, benchmarking, multicast and
/// reserved ranges (IPv6: the global unicast range 2000::/3 less
/// documentation, and NAT64's 64:ff9b::/96, which reaches IPv4's internet
/// through a NAT gateway).
fn public_ranges(family: Family) -> Vec<(u128, u128)> {
    let blocks: &[&str] = match family {
        Family::Ipv4 => &[
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
        ],
        Family::Ipv6 => &[],
    };
    match family {
        Family::Ipv4 => {
            let excluded: Vec<(u128, u128)> = blocks
                .iter()
                .filter_map(|b| Cidr::parse(b))
                .map(|c| (c.first, c.last))
                .collect();
            subtract(&[(0, u128::from(u32::MAX))], &excluded)
        }
        Family::Ipv6 => {
            let global = Cidr::parse("2000::/3").expect("a block");
            let documentation = Cidr::parse("2001:db8::/32").expect("a block");
            let nat64 = Cidr::parse("64:ff9b::/96").expect("a block");
            let mut out = subtract(
                &[(global.first, global.last)],
                &[(documentation.first, documentation.last)],
            );
            out.push((nat64.first, nat64.last));
            out.sort_unstable();
            out
        }
    }
}

/// `ranges` less `holes` (inclusive ranges; the result sorted).
fn subtract(ranges: &[(u128, u128)], holes: &[(u128, u128)]) -> Vec<(u128, u128)> {
    let mut out: Vec<(u128, u128)> = ranges.to_vec();
    for &(hole_first, hole_last) in holes {
        let mut next = Vec::with_capacity(out.len() + 1);
        for (first, last) in out {
            if hole_last < first || hole_first > last {
                next.push((first, last));
                continue;
            }
            if hole_first > first {
                next.push((first, hole_first - 1));
            }
            if hole_last < last {
                next.push((hole_last + 1, last));
            }
        }
        out = next;
    }
    out.sort_unstable();
    out
}

fn intersect(a: &[(u128, u128)], first: u128, last: u128) -> Vec<(u128, u128)> {
    a.iter()
        .filter(|(f, l)| *l >= first && *f <= last)
        .map(|(f, l)| ((*f).max(first), (*l).min(last)))
        .collect()
}

/// A route's destination blocks of one family; what is missing when it
/// names a prefix list whose entries are not known.
fn blocks(
    route: &Route,
    family: Family,
    network: &Network,
    table: &RouteTable,
) -> Result<Vec<Cidr>, String> {
    match &route.destination {
        Destination::Cidr(c) => Ok(if c.family == family {
            vec![*c]
        } else {
            Vec::new()
        }),
        Destination::PrefixList(id) => network
            .prefix_lists
            .get(id)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|c| c.family == family)
                    .copied()
                    .collect()
            })
            .ok_or_else(|| format!("the entries of {id}, a destination in {}", table.id)),
    }
}

/// The targets some public address of `family` reaches through `table`,
/// by longest prefix among its active routes; `Err` names a prefix list
/// whose entries are missing.
pub fn reached_targets<'t>(
    table: &'t RouteTable,
    family: Family,
    network: &Network,
) -> Result<Vec<&'t Target>, String> {
    let mut routes: Vec<(Cidr, &Target)> = Vec::new();
    for route in table.routes.iter().filter(|r| r.active) {
        let blocks = blocks(route, family, network, table)?;
        routes.extend(blocks.into_iter().map(|b| (b, &route.target)));
    }
    let public = public_ranges(family);
    let mut reached: Vec<&Target> = Vec::new();
    for (block, target) in &routes {
        // The public addresses of this block that no more specific route takes.
        let inside = intersect(&public, block.first, block.last);
        let more_specific: Vec<(u128, u128)> = routes
            .iter()
            .filter(|(other, _)| other.prefix > block.prefix && block.contains(other))
            .map(|(other, _)| (other.first, other.last))
            .collect();
        if !subtract(&inside, &more_specific).is_empty() && !reached.contains(target) {
            reached.push(target);
        }
    }
    Ok(reached)
}

/// The class an interface's traffic of `family` reaches, best over the
/// targets its table gives public addresses; `None` for nothing.
fn interface_class(
    interface: &Interface,
    family: Family,
    network: &Network,
) -> Result<Option<Exposure>, String> {
    let table = route_table_of(&interface.subnet_id, &interface.vpc_id, network)?;
    let mut best: Option<Exposure> = None;
    for target in reached_targets(table, family, network)? {
        let class = match target {
            Target::Local | Target::Peering(_) | Target::GatewayEndpoint(_) => None,
            Target::InternetGateway(id) => {
                let gateway = described(&network.internet_gateways, id, table)?;
                let attached = gateway.attached_vpcs.contains(&interface.vpc_id);
                let public = match family {
                    Family::Ipv4 => interface.public_ipv4,
                    Family::Ipv6 => interface.ipv6,
                };
                (attached && public).then(|| Exposure::Direct { via: id.clone() })
            }
            Target::EgressOnlyInternetGateway(id) => {
                let gateway = described(&network.egress_only_gateways, id, table)?;
                (family == Family::Ipv6
                    && interface.ipv6
                    && gateway.attached_vpcs.contains(&interface.vpc_id))
                .then(|| Exposure::Direct { via: id.clone() })
            }
            Target::CarrierGateway(id) => interface
                .carrier_ip
                .then(|| Exposure::Direct { via: id.clone() }),
            Target::NatGateway(id) => {
                let nat = network
                    .nat_gateways
                    .iter()
                    .find(|n| &n.id == id)
                    .ok_or_else(|| format!("{id}, a target in {}", table.id))?;
                nat_path(nat, network)?
            }
            Target::Beyond(id) => Some(Exposure::Indirect { via: id.clone() }),
        };
        if let Some(class) = class {
            if best.as_ref().is_none_or(|b| class.rank() < b.rank()) {
                best = Some(class);
            }
        }
    }
    Ok(best)
}

/// Where a NAT gateway takes traffic: VIA_NAT when it is public, available,
/// and its own subnet reaches an attached internet gateway for some public
/// IPv4 address; INDIRECT when that subnet instead sends public addresses
/// beyond what this account sees (a transit gateway, an appliance…: the
/// spec is silent, and INDIRECT cannot hide a way out that NONE would);
/// else nothing.
fn nat_path(nat: &NatGateway, network: &Network) -> Result<Option<Exposure>, String> {
    if !nat.public || !nat.available {
        return Ok(None);
    }
    let table = route_table_of(&nat.subnet_id, &nat.vpc_id, network)?;
    let mut beyond = None;
    for target in reached_targets(table, Family::Ipv4, network)? {
        match target {
            Target::InternetGateway(id) => {
                let gateway = described(&network.internet_gateways, id, table)?;
                if gateway.attached_vpcs.contains(&nat.vpc_id) {
                    return Ok(Some(Exposure::ViaNat {
                        via: nat.id.clone(),
                    }));
                }
            }
            Target::Beyond(id) => {
                beyond = beyond.or_else(|| {
                    Some(Exposure::Indirect {
                        via: format!("{} to {id}", nat.id),
                    })
                })
            }
            _ => {}
        }
    }
    Ok(beyond)
}

/// The gateway `id` a route of `table` targets, as the input describes it;
/// missing, it names what is missing (the exposure is then UNKNOWN).
fn described<'n>(
    gateways: &'n [Gateway],
    id: &str,
    table: &RouteTable,
) -> Result<&'n Gateway, String> {
    gateways
        .iter()
        .find(|g| g.id == id)
        .ok_or_else(|| format!("{id}, a target in {}", table.id))
}

/// A subnet's route table: its explicit association, else its VPC's main table.
pub fn route_table_of<'n>(
    subnet_id: &str,
    vpc_id: &str,
    network: &'n Network,
) -> Result<&'n RouteTable, String> {
    if let Some(table) = network
        .route_tables
        .iter()
        .find(|t| t.vpc_id == vpc_id && t.subnets.iter().any(|s| s == subnet_id))
    {
        return Ok(table);
    }
    network
        .route_tables
        .iter()
        .find(|t| t.vpc_id == vpc_id && t.main)
        .ok_or_else(|| format!("the main route table of {vpc_id}"))
}

/// The exposure of a group on one family: the best class over its
/// interfaces, else LATENT or ISOLATED from every table of its VPC.
pub fn exposure(
    group_id: &str,
    vpc_id: Option<&str>,
    family: Family,
    network: &Network,
) -> Exposure {
    match exposure_of(group_id, vpc_id, family, network) {
        Ok(e) => e,
        Err(missing) => Exposure::Unknown { missing },
    }
}

fn exposure_of(
    group_id: &str,
    vpc_id: Option<&str>,
    family: Family,
    network: &Network,
) -> Result<Exposure, String> {
    let vpc_id = vpc_id.ok_or_else(|| "the group's VPC".to_string())?;
    if let Some(why) = network.unreadable.get(vpc_id) {
        return Err(why.clone());
    }
    if !network.complete_vpcs.contains(vpc_id) {
        return Err(format!("the network of {vpc_id}"));
    }
    if !network.all_interfaces_read
        && !network.interfaces_read_for.contains(group_id)
        && !network.interfaces_read_for_vpcs.contains(vpc_id)
    {
        return Err(format!("the network interfaces of {group_id}"));
    }
    let mut best: Option<Exposure> = None;
    let mut missing: Option<String> = None;
    let mut any_interface = false;
    for interface in network
        .interfaces
        .iter()
        .filter(|i| i.groups.iter().any(|g| g == group_id))
    {
        any_interface = true;
        match interface_class(interface, family, network) {
            Ok(Some(class)) => {
                if best.as_ref().is_none_or(|b| class.rank() < b.rank()) {
                    best = Some(class);
                }
            }
            Ok(None) => {}
            Err(m) => missing = missing.or(Some(m)),
        }
    }
    match (best, missing) {
        // Nothing is above DIRECT: what is missing cannot change it.
        (Some(best @ Exposure::Direct { .. }), _) => Ok(best),
        (_, Some(missing)) => Err(missing),
        (Some(best), None) => Ok(best),
        (None, None) => latent_or_isolated(vpc_id, family, network, any_interface),
    }
}

/// LATENT when some table of the VPC routes a public destination of the
/// family to a target other than `local` (naming it), else ISOLATED.
fn latent_or_isolated(
    vpc_id: &str,
    family: Family,
    network: &Network,
    any_interface: bool,
) -> Result<Exposure, String> {
    let public = public_ranges(family);
    let mut tables: Vec<&RouteTable> = network
        .route_tables
        .iter()
        .filter(|t| t.vpc_id == vpc_id)
        .collect();
    // Every VPC has one main table. Without it, what was read is not the
    // VPC's routing (a VPC shared into the account, whose tables the owner
    // keeps; an offline input holding some tables only): what cannot be
    // seen may route out, so the exposure is UNKNOWN, never ISOLATED.
    if !tables.iter().any(|t| t.main) {
        return Err(format!("the main route table of {vpc_id}"));
    }
    // The main table first, then by id, so that the route named is stable.
    tables.sort_by_key(|t| (!t.main, t.id.clone()));
    for table in tables {
        for route in table
            .routes
            .iter()
            .filter(|r| r.active && r.target != Target::Local)
        {
            let blocks = blocks(route, family, network, table)?;
            if blocks
                .iter()
                .any(|b| !intersect(&public, b.first, b.last).is_empty())
            {
                let whose = if table.main {
                    format!("main table {}", table.id)
                } else if let Some(subnet) = table.subnets.first() {
                    subnet.clone()
                } else {
                    table.id.clone()
                };
                let interfaces = if any_interface {
                    "no interface reaches out"
                } else {
                    "no interface"
                };
                return Ok(Exposure::Latent {
                    route: format!("{interfaces}; {whose} routes to {}", route.target.id()),
                });
            }
        }
    }
    Ok(Exposure::Isolated)
}

/// The exposure of an open group, applied to its verdict (SPEC_EXPOSURE §3):
/// with `Annotate`, a NON_COMPLIANT group's annotation ends with its reach
/// (`; reach: direct via igw-0abc`), cut first when the annotation is too
/// long; with `RelaxIsolated`, a group open only on ISOLATED families is
/// COMPLIANT, its annotation starting `Isolated:`. Exposure UNKNOWN is not
/// said. Other verdicts are left as they are.
pub fn apply(
    verdict: crate::verdict::Verdict,
    group: &crate::model::SecurityGroup,
    network: &Network,
    mode: crate::params::ExposureMode,
) -> crate::verdict::Verdict {
    use crate::params::ExposureMode;
    use crate::verdict::{fit_annotation, Compliance};
    if mode == ExposureMode::Off || verdict.compliance != Compliance::NonCompliant {
        return verdict;
    }
    let families: BTreeSet<Family> = verdict.findings.iter().map(|f| f.family).collect();
    let exposures: Vec<(Family, Exposure)> = families
        .iter()
        .map(|&f| {
            (
                f,
                exposure(&group.group_id, group.vpc_id.as_deref(), f, network),
            )
        })
        .collect();
    let base = verdict.annotation.clone().unwrap_or_default();
    if mode == ExposureMode::RelaxIsolated
        && exposures.iter().all(|(_, e)| *e == Exposure::Isolated)
    {
        let vpc = group.vpc_id.as_deref().unwrap_or("its VPC");
        return crate::verdict::Verdict {
            compliance: Compliance::Compliant,
            annotation: fit_annotation(&format!(
                "Isolated: no route of {vpc} leaves it for a public address, so this would be open but reaches nothing: {base}"
            )),
            findings: verdict.findings,
        };
    }
    let shown: Vec<&(Family, Exposure)> = exposures
        .iter()
        .filter(|(_, e)| !matches!(e, Exposure::Unknown { .. }))
        .collect();
    let reach = match shown.as_slice() {
        [] => return verdict,
        [(_, only)] if exposures.len() == 1 => only.to_string(),
        [(_, a), (_, b)] if a == b => a.to_string(),
        many => many
            .iter()
            .map(|(f, e)| format!("{f} {e}"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let annotation = append_cut_first(&base, &format!("; reach: {reach}"));
    crate::verdict::Verdict {
        annotation,
        ..verdict
    }
}

/// `base` then `tail`, within the annotation limit: the tail is cut (or
/// dropped) first, so the finding is always whole.
fn append_cut_first(base: &str, tail: &str) -> Option<String> {
    use crate::verdict::{fit_annotation, MAX_ANNOTATION_CHARS};
    let units = |t: &str| t.chars().count().max(t.encode_utf16().count());
    let whole = format!("{base}{tail}");
    if units(&whole) <= MAX_ANNOTATION_CHARS {
        return Some(whole);
    }
    let room = MAX_ANNOTATION_CHARS.saturating_sub(units(base));
    // Too little room for anything readable: the finding alone.
    if room < 16 {
        return fit_annotation(base);
    }
    let mut cut = String::new();
    for c in tail.chars() {
        if units(&cut) + c.len_utf16().max(1) + 1 > room {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    Some(format!("{base}{cut}"))
}
