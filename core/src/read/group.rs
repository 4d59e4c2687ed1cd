//! A security group in either spelling: Config's camelCase `configuration`
//! (with the legacy `ipRanges`) and EC2's PascalCase `SecurityGroup`, read
//! straight into the model. The permission's quirks are settled in one
//! place, [`PermissionRead`] → [`EgressPermission`].

use super::error::nested;
use super::wire::{value, Each, Members, PortValue, ProtocolText, Str, Tags};
use crate::model::{CidrDestination, EgressPermission, PortError, Protocol, SecurityGroup, Usage};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

/// The member names of one spelling.
pub trait Spelling: Default {
    const GROUP_ID: &'static str;
    const VPC_ID: &'static str;
    const TAGS: &'static str;
    const EGRESS: &'static str;
    const PROTOCOL: &'static str;
    const FROM_PORT: &'static str;
    const TO_PORT: &'static str;
    /// IPv4 arrays, in the order their blocks are listed.
    const IPV4: &'static [&'static str];
    const CIDR_IP: &'static str;
    const IPV6: &'static str;
    const CIDR_IPV6: &'static str;
    const PREFIX_LISTS: &'static str;
    const PREFIX_LIST_ID: &'static str;
    const PAIRS: &'static str;
    const PAIR_GROUP_ID: &'static str;
}

/// Config's `configuration` (and `DescribeSecurityGroups` as the SDK's JSON
/// has it): camelCase, legacy `ipRanges` beside `ipv4Ranges`.
#[derive(Debug, Default)]
pub struct Camel;

impl Spelling for Camel {
    const GROUP_ID: &'static str = "groupId";
    const VPC_ID: &'static str = "vpcId";
    const TAGS: &'static str = "tags";
    const EGRESS: &'static str = "ipPermissionsEgress";
    const PROTOCOL: &'static str = "ipProtocol";
    const FROM_PORT: &'static str = "fromPort";
    const TO_PORT: &'static str = "toPort";
    const IPV4: &'static [&'static str] = &["ipv4Ranges", "ipRanges"];
    const CIDR_IP: &'static str = "cidrIp";
    const IPV6: &'static str = "ipv6Ranges";
    const CIDR_IPV6: &'static str = "cidrIpv6";
    const PREFIX_LISTS: &'static str = "prefixListIds";
    const PREFIX_LIST_ID: &'static str = "prefixListId";
    const PAIRS: &'static str = "userIdGroupPairs";
    const PAIR_GROUP_ID: &'static str = "groupId";
}

/// EC2's `DescribeSecurityGroups` as the AWS CLI prints it.
#[derive(Debug, Default)]
pub struct Pascal;

impl Spelling for Pascal {
    const GROUP_ID: &'static str = "GroupId";
    const VPC_ID: &'static str = "VpcId";
    const TAGS: &'static str = "Tags";
    const EGRESS: &'static str = "IpPermissionsEgress";
    const PROTOCOL: &'static str = "IpProtocol";
    const FROM_PORT: &'static str = "FromPort";
    const TO_PORT: &'static str = "ToPort";
    const IPV4: &'static [&'static str] = &["IpRanges"];
    const CIDR_IP: &'static str = "CidrIp";
    const IPV6: &'static str = "Ipv6Ranges";
    const CIDR_IPV6: &'static str = "CidrIpv6";
    const PREFIX_LISTS: &'static str = "PrefixListIds";
    const PREFIX_LIST_ID: &'static str = "PrefixListId";
    const PAIRS: &'static str = "UserIdGroupPairs";
    const PAIR_GROUP_ID: &'static str = "GroupId";
}

/// One egress permission as written, before its quirks are settled.
#[derive(Debug, Default)]
pub struct PermissionRead<'de, S> {
    pub protocol: Option<ProtocolText<'de>>,
    pub from_port: Option<PortValue>,
    pub to_port: Option<PortValue>,
    /// Every CIDR block of the IPv4 arrays and the IPv6 one, as written.
    pub cidrs: Vec<CidrDestination>,
    pub prefix_lists: Vec<String>,
    pub referenced_groups: Vec<String>,
    spelling: PhantomData<S>,
}

impl<S> PermissionRead<'_, S> {
    /// Newer Config items repeat `ipv4Ranges` in the legacy `ipRanges`: each
    /// block is kept once.
    fn add_cidr(&mut self, text: &str) {
        if !self.cidrs.iter().any(|c| c.text == text) {
            self.cidrs.push(CidrDestination::new(text));
        }
    }
}

impl<'de, S: Spelling> Members<'de> for PermissionRead<'de, S> {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key == S::PROTOCOL {
            self.protocol = value(map)?;
        } else if key == S::FROM_PORT {
            self.from_port = value(map)?;
        } else if key == S::TO_PORT {
            self.to_port = value(map)?;
        } else if S::IPV4.contains(&key) {
            map.next_value_seed(Each::<CidrEntry<S>, _>::new(|c: CidrEntry<S>| {
                self.add_cidr(c.0.as_str())
            }))?;
        } else if key == S::IPV6 {
            map.next_value_seed(Each::<Ipv6Entry<S>, _>::new(|c: Ipv6Entry<S>| {
                self.add_cidr(c.0.as_str())
            }))?;
        } else if key == S::PREFIX_LISTS {
            let lists = &mut self.prefix_lists;
            map.next_value_seed(Each::<PrefixListEntry<S>, _>::new(
                |p: PrefixListEntry<S>| lists.push(p.0 .0.into_owned()),
            ))?;
        } else if key == S::PAIRS {
            let groups = &mut self.referenced_groups;
            map.next_value_seed(Each::<GroupPair<S>, _>::new(|p: GroupPair<S>| {
                groups.push(p.0)
            }))?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

impl<'de, S: Spelling> Deserialize<'de> for PermissionRead<'de, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(super::wire::MembersVisitor::default())
    }
}

/// Why a permission as written is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionError {
    #[error("{0} is missing")]
    MissingProtocol(&'static str),
    #[error("{0}")]
    Protocol(#[from] crate::model::ProtocolError),
    #[error("{0}")]
    Port(#[from] PortError),
}

impl<S: Spelling> TryFrom<PermissionRead<'_, S>> for EgressPermission {
    type Error = (Option<&'static str>, PermissionError);

    /// The one conversion of a permission as written into the model. The
    /// error names the member at fault, in the input's spelling.
    fn try_from(read: PermissionRead<'_, S>) -> Result<Self, Self::Error> {
        let text = read
            .protocol
            .ok_or((None, PermissionError::MissingProtocol(S::PROTOCOL)))?;
        let protocol: Protocol = text
            .0
            .parse()
            .map_err(|e| (Some(S::PROTOCOL), PermissionError::Protocol(e)))?;
        let mut permission = EgressPermission::new(
            protocol,
            read.from_port.map(|p| p.0),
            read.to_port.map(|p| p.0),
        )
        .map_err(|e| {
            let member = match e {
                PortError::From(_) => S::FROM_PORT,
                PortError::To(_) => S::TO_PORT,
            };
            (Some(member), PermissionError::Port(e))
        })?;
        permission.cidrs = read.cidrs;
        permission.prefix_list_ids = read.prefix_lists;
        permission.referenced_group_ids = read.referenced_groups;
        Ok(permission)
    }
}

/// An egress permission of the model, read in spelling `S`.
pub struct Permission<S>(pub EgressPermission, PhantomData<S>);

impl<'de, S: Spelling> Deserialize<'de> for Permission<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = PermissionRead::<S>::deserialize(deserializer)?;
        EgressPermission::try_from(read)
            .map(|p| Permission(p, PhantomData))
            .map_err(|(member, e)| match member {
                Some(member) => de::Error::custom(nested(member, &e.to_string())),
                None => de::Error::custom(e),
            })
    }
}

/// An element of an IPv4 array: `{cidrIp}` or a bare CIDR string.
struct CidrEntry<'de, S>(Str<'de>, PhantomData<S>);

impl<'de, S: Spelling> Deserialize<'de> for CidrEntry<'de, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<S>(PhantomData<S>);
        impl<'de, S: Spelling> Visitor<'de> for V<S> {
            type Value = CidrEntry<'de, S>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an object with {} or a CIDR string", S::CIDR_IP)
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CidrEntry(Str(v.into()), PhantomData))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CidrEntry(Str(v.to_string().into()), PhantomData))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let member: Member<'de> = Member::read(map, S::CIDR_IP)?;
                Ok(CidrEntry(member.0, PhantomData))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// An element of the IPv6 array: `{cidrIpv6}`.
struct Ipv6Entry<'de, S>(Str<'de>, PhantomData<S>);

impl<'de, S: Spelling> Deserialize<'de> for Ipv6Entry<'de, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<S>(PhantomData<S>);
        impl<'de, S: Spelling> Visitor<'de> for V<S> {
            type Value = Ipv6Entry<'de, S>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an object with {} or a CIDR string", S::CIDR_IPV6)
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Ipv6Entry(Str(v.into()), PhantomData))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Ipv6Entry(Str(v.to_string().into()), PhantomData))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Ok(Ipv6Entry(Member::read(map, S::CIDR_IPV6)?.0, PhantomData))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// An element of the prefix-list array: `{prefixListId}`.
struct PrefixListEntry<'de, S>(Str<'de>, PhantomData<S>);

impl<'de, S: Spelling> Deserialize<'de> for PrefixListEntry<'de, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<S>(PhantomData<S>);
        impl<'de, S: Spelling> Visitor<'de> for V<S> {
            type Value = PrefixListEntry<'de, S>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Ok(PrefixListEntry(
                    Member::read(map, S::PREFIX_LIST_ID)?.0,
                    PhantomData,
                ))
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

/// An element of the group-reference array; only its group id is kept.
struct GroupPair<S>(String, PhantomData<S>);

impl<'de, S: Spelling> Deserialize<'de> for GroupPair<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<S>(PhantomData<S>);
        impl<'de, S: Spelling> Visitor<'de> for V<S> {
            type Value = GroupPair<S>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut id = String::new();
                while let Some(key) = map.next_key::<Str>()? {
                    if key.as_str() == S::PAIR_GROUP_ID {
                        id = value::<_, Str>(&mut map)?
                            .unwrap_or_default()
                            .0
                            .into_owned();
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(GroupPair(id, PhantomData))
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

/// The one required string member of a small object (`cidrIp`, `prefixListId`).
struct Member<'de>(Str<'de>);

impl<'de> Member<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, name: &'static str) -> Result<Self, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Str>()? {
            if key.as_str() == name {
                found = value::<_, Str>(&mut map)?;
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        found
            .map(Member)
            .ok_or_else(|| de::Error::custom(format!("{name} is missing")))
    }
}

/// A security group in spelling `S`, read into the model. Its usage is
/// unknown: only a configuration item's relationships, or EC2, tell it.
#[derive(Debug, Default)]
pub struct GroupRead<S> {
    group_id: Option<String>,
    vpc_id: Option<String>,
    tags: Tags,
    egress: Vec<EgressPermission>,
    spelling: PhantomData<S>,
}

impl<'de, S: Spelling> Members<'de> for GroupRead<S> {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key == S::GROUP_ID {
            self.group_id = value::<_, Str>(map)?.map(|s| s.0.into_owned());
        } else if key == S::VPC_ID {
            self.vpc_id = value::<_, Str>(map)?.map(|s| s.0.into_owned());
        } else if key == S::TAGS {
            self.tags = value(map)?.unwrap_or_default();
        } else if key == S::EGRESS {
            self.egress = value::<_, Vec<Permission<S>>>(map)?
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.0)
                .collect();
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<Self, E> {
        if self.group_id.is_none() {
            return Err(E::custom(format!("{} is missing", S::GROUP_ID)));
        }
        Ok(self)
    }
}

impl<'de, S: Spelling> Deserialize<'de> for GroupRead<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(super::wire::MembersVisitor::default())
    }
}

impl<S> GroupRead<S> {
    /// Tags read by the object around the group (a member both an item and
    /// a bare configuration have).
    pub fn set_tags(&mut self, tags: Tags) {
        self.tags = tags;
    }
}

impl<S> From<GroupRead<S>> for SecurityGroup {
    fn from(read: GroupRead<S>) -> Self {
        SecurityGroup {
            group_id: read.group_id.unwrap_or_default(),
            vpc_id: read.vpc_id,
            tags: read.tags.0.into_iter().collect(),
            usage: Usage::Unknown,
            egress: read.egress,
        }
    }
}
