//! The normalized security group that every input shape becomes.
//!
//! Nothing downstream of this module knows whether a group came from a Config
//! item, an EC2 API response or the SDK: the quirks of each shape (legacy
//! `ipRanges`, ports as floats or strings, `-1` meaning "all") are settled by
//! the constructors here, once.

use crate::cidr::Cidr;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;

/// The resource type the rule evaluates.
pub const SECURITY_GROUP_TYPE: &str = "AWS::EC2::SecurityGroup";
/// Relationship types whose presence in a configuration item proves that a
/// group is in use (SPEC §7). Their absence proves nothing: Config records
/// them only when the related type is recorded.
pub const USE_PROVING_RELATIONSHIPS: [&str; 2] =
    ["AWS::EC2::NetworkInterface", "AWS::EC2::Instance"];

/// The IP protocol of a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// `-1` or `all`: every protocol, every port.
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// Any other protocol number; these have no ports.
    Other(u8),
}

/// A protocol that is neither a known name nor a number 0..=255.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("protocol number {0:?} is out of range 0..=255")]
    OutOfRange(String),
    #[error(
        "unknown protocol {0:?} (expected -1, all, tcp, udp, icmp, icmpv6 or a number 0..=255)"
    )]
    Unknown(String),
}

impl std::str::FromStr for Protocol {
    type Err = ProtocolError;

    /// Parses a protocol name or number, case-insensitively: `-1`/`all`,
    /// `tcp`/`6`, `udp`/`17`, `icmp`/`1`, `icmpv6`/`58`, or any number 0..=255.
    fn from_str(text: &str) -> Result<Protocol, ProtocolError> {
        let lower = text.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "icmp" => Protocol::Icmp,
            "icmpv6" => Protocol::Icmpv6,
            number if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                match number.parse::<u16>() {
                    Ok(6) => Protocol::Tcp,
                    Ok(17) => Protocol::Udp,
                    Ok(1) => Protocol::Icmp,
                    Ok(58) => Protocol::Icmpv6,
                    Ok(n) if n <= 255 => Protocol::Other(n as u8),
                    _ => return Err(ProtocolError::OutOfRange(text.to_string())),
                }
            }
            _ => return Err(ProtocolError::Unknown(text.to_string())),
        })
    }
}

impl Protocol {
    fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Icmpv6 => f.write_str("icmpv6"),
            Protocol::Other(n) => write!(f, "{n}"),
        }
    }
}

/// A CIDR destination as written in the input, with its parsed range
/// (`None` when the text is not a valid CIDR block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrDestination {
    pub text: String,
    pub block: Option<Cidr>,
}

impl CidrDestination {
    pub fn new(text: &str) -> Self {
        CidrDestination {
            text: text.to_string(),
            block: Cidr::parse(text),
        }
    }
}

/// One element of a group's egress permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressPermission {
    pub protocol: Protocol,
    /// First port allowed (tcp/udp); 0 when the input gave none, `null` or `-1`.
    pub from_port: u16,
    /// Last port allowed (tcp/udp); 65535 when the input gave none, `null` or `-1`.
    /// A `from_port` above `to_port` allows no port.
    pub to_port: u16,
    /// IPv4 and IPv6 blocks, the union of `ipv4Ranges`, legacy `ipRanges` and `ipv6Ranges`.
    pub cidrs: Vec<CidrDestination>,
    pub prefix_list_ids: Vec<String>,
    pub referenced_group_ids: Vec<String>,
}

impl EgressPermission {
    /// A permission with no destinations yet. Ports are read as the AWS APIs
    /// mean them: missing or `-1` opens the range at that end. Ports outside
    /// -1..=65535 on tcp or udp are an error; other protocols' ports (ICMP
    /// type and code) are not ports and are not read.
    pub fn new(
        protocol: Protocol,
        from_port: Option<i64>,
        to_port: Option<i64>,
    ) -> Result<Self, PortError> {
        let (from_port, to_port) = if protocol.has_ports() {
            (
                port_or(from_port, 0).map_err(PortError::From)?,
                port_or(to_port, 65535).map_err(PortError::To)?,
            )
        } else {
            (0, 65535)
        };
        Ok(EgressPermission {
            protocol,
            from_port,
            to_port,
            cidrs: Vec::new(),
            prefix_list_ids: Vec::new(),
            referenced_group_ids: Vec::new(),
        })
    }

    /// Adds a CIDR destination unless the same text is already there (newer
    /// Config items repeat `ipv4Ranges` in the legacy `ipRanges`).
    pub fn add_cidr(&mut self, text: &str) {
        if !self.cidrs.iter().any(|c| c.text == text) {
            self.cidrs.push(CidrDestination::new(text));
        }
    }

    /// Adds many CIDR destinations, each text once, first occurrence kept:
    /// linear in their number (a group may hold 100,000 blocks).
    pub fn extend_cidrs<'a>(&mut self, texts: impl IntoIterator<Item = &'a str>) {
        self.cidrs
            .extend(texts.into_iter().map(CidrDestination::new));
        self.dedup_cidrs();
    }

    /// Keeps each CIDR text once, in the order first seen: pairwise for a
    /// few blocks (no allocation), through a set of borrowed texts for many.
    pub fn dedup_cidrs(&mut self) {
        let n = self.cidrs.len();
        if n < 2 {
            return;
        }
        if n <= 16 {
            let mut i = 1;
            while i < self.cidrs.len() {
                if self.cidrs[..i].iter().any(|c| c.text == self.cidrs[i].text) {
                    self.cidrs.remove(i);
                } else {
                    i += 1;
                }
            }
            return;
        }
        let mut seen = std::collections::HashSet::with_capacity(n);
        let keep: Vec<bool> = self
            .cidrs
            .iter()
            .map(|c| seen.insert(c.text.as_str()))
            .collect();
        if keep.iter().all(|k| *k) {
            return;
        }
        let mut i = 0;
        self.cidrs.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    /// The ports this permission opens for TCP (`Tcp`) or UDP (`Udp`), if any.
    pub fn ports_for(&self, protocol: Protocol) -> Option<(u16, u16)> {
        if self.protocol == Protocol::All {
            Some((0, 65535))
        } else if self.protocol == protocol && self.from_port <= self.to_port {
            Some((self.from_port, self.to_port))
        } else {
            None
        }
    }
}

/// A port value outside -1..=65535, at the start or the end of the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("port {0} is outside -1..=65535")]
    From(i64),
    #[error("port {0} is outside -1..=65535")]
    To(i64),
}

fn port_or(port: Option<i64>, default: u16) -> Result<u16, i64> {
    match port {
        None | Some(-1) => Ok(default),
        Some(p) => u16::try_from(p).map_err(|_| p),
    }
}

/// Whether the group is attached to a network interface (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A network interface lists it, or a relationship proves it.
    InUse,
    /// EC2 (or its `DescribeNetworkInterfaces` output) lists no interface with it.
    Unused,
    /// The input cannot tell (EC2 shapes, bare configurations, items whose
    /// relationships name no interface or instance); such a group counts as used.
    Unknown,
}

/// A security group, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub group_id: String,
    pub vpc_id: Option<String>,
    /// Tags from every place the input holds them.
    pub tags: BTreeMap<String, String>,
    pub usage: Usage,
    pub egress: Vec<EgressPermission>,
}

/// `configurationItemStatus` of a Config item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    /// `OK` and `ResourceDiscovered`, or a shape with no status (EC2 shapes).
    Current,
    /// `ResourceDeleted`, `ResourceNotRecorded`, `ResourceDeletedNotRecorded`.
    Gone(String),
}

impl ItemStatus {
    pub fn parse(text: &str) -> Result<ItemStatus, String> {
        match text {
            "OK" | "ResourceDiscovered" => Ok(ItemStatus::Current),
            "ResourceDeleted" | "ResourceNotRecorded" | "ResourceDeletedNotRecorded" => Ok(ItemStatus::Gone(text.to_string())),
            other => Err(format!(
                "unknown configurationItemStatus {other:?} (expected OK, ResourceDiscovered, ResourceDeleted, ResourceNotRecorded or ResourceDeletedNotRecorded)"
            )),
        }
    }
}

/// One resource to evaluate: what Config knows of it, and the group itself
/// when there is one to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource type (`AWS::EC2::SecurityGroup`, borrowed, for nearly all).
    pub resource_type: std::borrow::Cow<'static, str>,
    pub resource_id: String,
    pub status: ItemStatus,
    /// The event said the resource left the rule's scope.
    pub event_left_scope: bool,
    /// `configurationItemCaptureTime`, when the shape carries one.
    pub captured_at: Option<DateTime<Utc>>,
    /// The group; `None` for deleted items and other resource types.
    pub group: Option<SecurityGroup>,
}

impl Resource {
    /// A current security group from a shape that carries no Config metadata.
    pub fn from_group(group: SecurityGroup) -> Self {
        Resource {
            resource_type: SECURITY_GROUP_TYPE.into(),
            resource_id: group.group_id.clone(),
            status: ItemStatus::Current,
            event_left_scope: false,
            captured_at: None,
            group: Some(group),
        }
    }
}

/// The security groups that network interfaces list, as EC2's
/// `DescribeNetworkInterfaces` tells it (SPEC §7): EC2 is the authority on use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupsInUse {
    ids: std::collections::HashSet<String>,
}

impl GroupsInUse {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the groups one interface lists.
    pub fn extend<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, group_ids: I) {
        self.ids.extend(group_ids.into_iter().map(Into::into));
    }

    pub fn contains(&self, group_id: &str) -> bool {
        self.ids.contains(group_id)
    }

    /// Marks a group used or unused from EC2's answer. A group whose item's
    /// relationships already prove use stays in use: evidence of use is never
    /// taken back.
    pub fn apply(&self, group: &mut SecurityGroup) {
        if group.usage != Usage::InUse {
            group.usage = if self.contains(&group.group_id) {
                Usage::InUse
            } else {
                Usage::Unused
            };
        }
    }
}

/// Entries of managed prefix lists, when known (`pl-…` → CIDR blocks).
/// Lists not in here count as restricted destinations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownPrefixLists {
    entries: BTreeMap<String, Vec<(String, Cidr)>>,
}

impl KnownPrefixLists {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the entries of one list; each must be a valid CIDR block.
    pub fn insert<S: AsRef<str>>(
        &mut self,
        prefix_list_id: &str,
        cidrs: &[S],
    ) -> Result<(), String> {
        let mut parsed = Vec::with_capacity(cidrs.len());
        for text in cidrs {
            let text = text.as_ref();
            let block = Cidr::parse(text).ok_or_else(|| {
                format!("prefix list {prefix_list_id}: {text:?} is not a CIDR block")
            })?;
            parsed.push((text.to_string(), block));
        }
        self.entries.insert(prefix_list_id.to_string(), parsed);
        Ok(())
    }

    pub fn contains(&self, prefix_list_id: &str) -> bool {
        self.entries.contains_key(prefix_list_id)
    }

    pub fn get(&self, prefix_list_id: &str) -> Option<&[(String, Cidr)]> {
        self.entries.get(prefix_list_id).map(Vec::as_slice)
    }

    /// The ids of the lists whose entries are known.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}
