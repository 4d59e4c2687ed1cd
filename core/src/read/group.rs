//! A security group in either spelling: Config's camelCase `configuration`
//! (with the legacy `ipRanges`) and EC2's PascalCase `SecurityGroup`, read
//! straight into the model. The permission's quirks are settled in one
//! place, [`PermissionRead`] → [`EgressPermission`].

use super::error::nested;
use super::wire::{deserialize_members, value, Each, Members, PortValue, ProtocolText, Str, Tags};
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
    /// Every block as read; newer Config items repeat `ipv4Ranges` in the
    /// legacy `ipRanges`, so each is kept once when the permission is made.
    fn add_cidr(&mut self, text: &str) {
        self.cidrs.push(CidrDestination::new(text));
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
            map.next_value_seed(Each::new(|c: Entry<Ipv4Member<S>>| {
                self.add_cidr(c.0.as_str())
            }))?;
        } else if key == S::IPV6 {
            map.next_value_seed(Each::new(|c: Entry<Ipv6Member<S>>| {
                self.add_cidr(c.0.as_str())
            }))?;
        } else if key == S::PREFIX_LISTS {
            let lists = &mut self.prefix_lists;
            map.next_value_seed(Each::new(|p: Entry<PrefixListMember<S>>| {
                lists.push(p.0 .0.into_owned())
            }))?;
        } else if key == S::PAIRS {
            let groups = &mut self.referenced_groups;
            map.next_value_seed(Each::new(|p: Entry<GroupPairMember<S>>| {
                groups.push(p.0 .0.into_owned())
            }))?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

deserialize_members!({S: Spelling} PermissionRead<'de, S>);

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
        permission.dedup_cidrs();
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

/// Which member of a small object an array element holds, and whether a
/// bare string may stand for the object.
trait OneMember {
    /// The member's name.
    fn name() -> &'static str;
    /// A bare string is the member's value (`ipRanges: ["0.0.0.0/0"]`).
    const STRING_ALLOWED: bool;
    /// The member may be missing (a group reference's id).
    const OPTIONAL: bool;
}

/// A marker type naming one member of one spelling.
macro_rules! one_member {
    ($marker:ident, $name:ident, string: $string:expr, optional: $optional:expr) => {
        struct $marker<S>(PhantomData<S>);
        impl<S: Spelling> OneMember for $marker<S> {
            fn name() -> &'static str {
                S::$name
            }
            const STRING_ALLOWED: bool = $string;
            const OPTIONAL: bool = $optional;
        }
    };
}

one_member!(Ipv4Member, CIDR_IP, string: true, optional: false);
one_member!(Ipv6Member, CIDR_IPV6, string: true, optional: false);
one_member!(PrefixListMember, PREFIX_LIST_ID, string: false, optional: false);
one_member!(GroupPairMember, PAIR_GROUP_ID, string: false, optional: true);

/// An array element read for one member of it (`{cidrIp}` → the CIDR
/// text); a missing optional member reads as the empty string.
struct Entry<'de, M>(Str<'de>, PhantomData<M>);

impl<'de, M: OneMember> Deserialize<'de> for Entry<'de, M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<M>(PhantomData<M>);
        impl<'de, M: OneMember> Visitor<'de> for V<M> {
            type Value = Entry<'de, M>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                if M::STRING_ALLOWED {
                    write!(f, "an object with {} or a CIDR string", M::name())
                } else {
                    f.write_str("an object")
                }
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                if !M::STRING_ALLOWED {
                    return Err(E::invalid_type(de::Unexpected::Str(v), &self));
                }
                Ok(Entry(Str(v.into()), PhantomData))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if !M::STRING_ALLOWED {
                    return Err(E::invalid_type(de::Unexpected::Str(v), &self));
                }
                Ok(Entry(Str(v.to_string().into()), PhantomData))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<Str>()? {
                    if key.as_str() == M::name() {
                        found = value::<_, Str>(&mut map)?;
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                match found {
                    Some(text) => Ok(Entry(text, PhantomData)),
                    None if M::OPTIONAL => Ok(Entry(Str::default(), PhantomData)),
                    None => Err(de::Error::custom(format!("{} is missing", M::name()))),
                }
            }
        }
        deserializer.deserialize_any(V(PhantomData))
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

deserialize_members!({S: Spelling} GroupRead<S>);

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
