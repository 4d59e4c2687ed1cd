//! EC2 `DescribeNetworkInterfaces` output as the AWS CLI prints it: which
//! groups network interfaces list, so that offline `evaluate` can tell a
//! group used from an unused one (SPEC §7).

use super::wire::{deserialize_members, value, Members, MembersVisitor, Str};
use super::ReadError;
use crate::model::GroupsInUse;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// Reads `{"NetworkInterfaces": [...]}` (or a list of such outputs, one per
/// page) into the groups the interfaces list.
pub fn read_network_interfaces(bytes: &[u8], in_use: &mut GroupsInUse) -> Result<(), ReadError> {
    let pages: Pages = super::read_value(bytes, "")?;
    for group_id in pages.0 {
        in_use.extend([group_id]);
    }
    Ok(())
}

/// Every group id the interfaces of one output, or of a list of outputs, list.
struct Pages(Vec<String>);

impl<'de> Deserialize<'de> for Pages {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pages;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("DescribeNetworkInterfaces output")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pages, A::Error> {
                let mut ids = Vec::new();
                while let Some(page) = seq.next_element::<Pages>()? {
                    ids.extend(page.0);
                }
                Ok(Pages(ids))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Pages, A::Error> {
                let page: Page = MembersVisitor::default().visit_map(map)?;
                Ok(Pages(page.group_ids))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Default)]
struct Page {
    group_ids: Vec<String>,
    present: bool,
}

impl<'de> Members<'de> for Page {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "NetworkInterfaces" {
            return Ok(false);
        }
        self.present = true;
        for interface in value::<_, Vec<Interface>>(map)?.unwrap_or_default() {
            self.group_ids.extend(interface.0);
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<Self, E> {
        if self.present {
            Ok(self)
        } else {
            Err(E::custom("expected DescribeNetworkInterfaces output ({\"NetworkInterfaces\": [...]}, as `aws ec2 describe-network-interfaces` prints it)"))
        }
    }
}

/// One interface: the ids of its groups.
#[derive(Default)]
struct Interface(Vec<String>);

impl<'de> Members<'de> for Interface {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "Groups" {
            return Ok(false);
        }
        self.0 = value::<_, Vec<GroupRef>>(map)?
            .unwrap_or_default()
            .into_iter()
            .map(|g| g.0)
            .collect();
        Ok(true)
    }
}

deserialize_members!({} Interface);

/// `{"GroupId": …}`.
#[derive(Default)]
struct GroupRef(String);

impl<'de> Members<'de> for GroupRef {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "GroupId" {
            return Ok(false);
        }
        self.0 = value::<_, Str>(map)?.unwrap_or_default().0.into_owned();
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<Self, E> {
        if self.0.is_empty() {
            Err(E::custom("GroupId is missing"))
        } else {
            Ok(self)
        }
    }
}

deserialize_members!({} GroupRef);
