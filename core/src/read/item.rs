//! AWS Config configuration items, in every form Config hands them out: the
//! event form (in change notifications: `ARN`, `awsAccountId`, tags as a map,
//! `configuration` an object), the API form (`GetResourceConfigHistory`,
//! `BatchGetResourceConfig`: `configuration` a JSON string, times as epoch
//! seconds), and advanced query rows (`SelectResourceConfig`: any subset of
//! fields, tags as a list, ports as floats).
//!
//! An item's `configuration` is read only when the item is a current
//! security group in scope: a deleted item's configuration may be anything.
//! Members arrive in any order, so when the configuration comes before the
//! members that decide, its JSON text is kept (borrowed) and read at the end.

use super::error::nested;
use super::group::{Camel, GroupRead};
use super::wire::{
    deserialize_members, from_json_text, value, Embedded, EmbeddedValue, Members, Owned, Seed,
    Status, Str, Tags, Time,
};
use crate::model::{
    ItemStatus, Resource, SecurityGroup, Usage, SECURITY_GROUP_TYPE, USE_PROVING_RELATIONSHIPS,
};
use serde::de::{self, Deserializer, MapAccess};
use serde::Deserialize;
use serde_json::value::RawValue;

/// What an item and an oversized notification's summary both say of the
/// resource: its type, id, status and capture time.
#[derive(Debug, Default)]
pub struct ItemHead {
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub status: Option<ItemStatus>,
    pub captured_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl<'de> Members<'de> for ItemHead {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "resourceType" => self.resource_type = value::<_, Str>(map)?.map(|s| s.0.into_owned()),
            "resourceId" => self.resource_id = value::<_, Str>(map)?.map(|s| s.0.into_owned()),
            "configurationItemStatus" => self.status = value::<_, Status>(map)?.map(|s| s.0),
            "configurationItemCaptureTime" => {
                self.captured_at = value::<_, Time>(map)?.map(|t| t.0)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A configuration item as read, before its configuration is settled.
#[derive(Default)]
pub struct ItemRead<'de> {
    head: ItemHead,
    configuration: Configuration<'de>,
    tags: Option<Tags>,
    /// Whether the item lists its relationships, and whether they prove use.
    relationships: Option<bool>,
    /// The Lambda event around the item said it left the rule's scope.
    event_left_scope: bool,
}

/// The `configuration` member: not there, read, or kept to be read at the
/// end.
#[derive(Default)]
enum Configuration<'de> {
    #[default]
    Missing,
    Read(SecurityGroup),
    Kept(&'de RawValue),
    /// The JSON text of the configuration object (from the SDK's item).
    Text(&'de str),
}

impl ItemRead<'_> {
    /// Whether the configuration must be read: a current security group in
    /// scope. `None` while the members that decide are still to come.
    fn needs_configuration(&self) -> Option<bool> {
        let head = &self.head;
        let resource_type = head.resource_type.as_deref().unwrap_or(SECURITY_GROUP_TYPE);
        let status_current = head
            .status
            .as_ref()
            .is_none_or(|s| *s == ItemStatus::Current);
        let decided = head.resource_type.is_some() && head.status.is_some();
        let needed =
            resource_type == SECURITY_GROUP_TYPE && status_current && !self.event_left_scope;
        (decided || !needed).then_some(needed)
    }
}

impl<'de> Members<'de> for ItemRead<'de> {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if self.head.member(key, map)? {
            return Ok(true);
        }
        match key {
            "configuration" => {
                self.configuration = match self.needs_configuration() {
                    Some(false) => {
                        map.next_value::<de::IgnoredAny>()?;
                        Configuration::Missing
                    }
                    Some(true) => match value::<_, EmbeddedValue<GroupRead<Camel>>>(map)? {
                        Some(group) => Configuration::Read(group.0.into()),
                        None => Configuration::Missing,
                    },
                    None => match map.next_value::<&'de RawValue>()? {
                        raw if raw.get() == "null" => Configuration::Missing,
                        raw => Configuration::Kept(raw),
                    },
                }
            }
            "tags" => self.tags = value(map)?,
            "relationships" => {
                self.relationships = value::<_, ProvesUse>(map)?.map(|p| p.0);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A list of relationships, read for one thing: whether one of them proves
/// that the group is in use (SPEC §7).
struct ProvesUse(bool);

impl<'de> Deserialize<'de> for ProvesUse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = ProvesUse;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ProvesUse, A::Error> {
                let mut proves = false;
                while let Some(relationship) = seq.next_element::<Relationship>()? {
                    proves |= relationship.0;
                }
                Ok(ProvesUse(proves))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

/// One relationship: whether its related type proves use.
#[derive(Default)]
struct Relationship(bool);

impl<'de> Members<'de> for Relationship {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "resourceType" {
            return Ok(false);
        }
        self.0 =
            value::<_, Str>(map)?.is_some_and(|t| USE_PROVING_RELATIONSHIPS.contains(&t.as_str()));
        Ok(true)
    }
}

deserialize_members!({} Relationship);

impl ItemRead<'_> {
    /// Tags read by the object around the item.
    pub fn set_tags(&mut self, tags: Option<Tags>) {
        self.tags = tags;
    }

    /// The resource the item describes.
    pub fn into_resource<E: de::Error>(self) -> Result<Resource, E> {
        let needed = self.needs_configuration().unwrap_or(true);
        let group = if needed {
            let group = match self.configuration {
                Configuration::Read(group) => group,
                Configuration::Kept(raw) => {
                    from_json_text::<_, E>(raw.get(), Embedded(Owned::<GroupRead<Camel>>::new()))
                        .map(Into::into)
                        .map_err(|e| E::custom(nested("configuration", &e.to_string())))?
                }
                Configuration::Text(text) => {
                    from_json_text::<_, E>(text, Owned::<GroupRead<Camel>>::new())
                        .map(Into::into)
                        .map_err(|e| E::custom(nested("configuration", &e.to_string())))?
                }
                Configuration::Missing => {
                    return Err(E::custom(
                        "configuration is missing (a current security group item must carry one)",
                    ))
                }
            };
            Some(group)
        } else {
            None
        };
        let group = group.map(|mut group: SecurityGroup| {
            for (key, value) in self.tags.into_iter().flat_map(|t| t.0) {
                group.tags.insert(key, value);
            }
            if let Some(proves_use) = self.relationships {
                group.usage = if proves_use {
                    Usage::InUse
                } else {
                    Usage::Unknown
                };
            }
            group
        });
        let head = self.head;
        let resource_id = match (head.resource_id, &group) {
            (Some(id), _) => id,
            (None, Some(group)) => group.group_id.clone(),
            (None, None) => return Err(E::custom("resourceId is missing")),
        };
        Ok(Resource {
            resource_type: match head.resource_type {
                None => SECURITY_GROUP_TYPE.into(),
                Some(t) if t == SECURITY_GROUP_TYPE => SECURITY_GROUP_TYPE.into(),
                Some(t) => t.into(),
            },
            resource_id,
            status: head.status.unwrap_or(ItemStatus::Current),
            event_left_scope: self.event_left_scope,
            captured_at: head.captured_at,
            group,
        })
    }
}

/// Reads one configuration item into a [`Resource`]; `event_left_scope`
/// comes from the Lambda event around it, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemSeed {
    pub event_left_scope: bool,
}

impl Seed for ItemSeed {
    type Value = Resource;

    fn read<'de, D: Deserializer<'de>>(self, deserializer: D) -> Result<Resource, D::Error> {
        struct V(bool);
        impl<'de> de::Visitor<'de> for V {
            type Value = Resource;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
                let mut item = ItemRead {
                    event_left_scope: self.0,
                    ..ItemRead::default()
                };
                while let Some(key) = map.next_key::<Str>()? {
                    if !item.member(key.as_str(), &mut map)? {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                item.into_resource()
            }
        }
        deserializer.deserialize_map(V(self.event_left_scope))
    }
}

/// A configuration item read into a [`Resource`] (outside any event).
pub struct Item(pub Resource);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ItemSeed::default().read(deserializer).map(Item)
    }
}

/// A configuration item whose members are already apart (the SDK's
/// `ConfigurationItem`): the same reading as any other item.
#[derive(Debug, Clone, Default)]
pub struct ItemFields<'a> {
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub captured_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The JSON text of the configuration object, as the API gives it.
    pub configuration: Option<&'a str>,
    pub tags: Vec<(String, String)>,
    /// The related resources' types, when the item lists its relationships.
    pub related_types: Option<Vec<String>>,
}

impl TryFrom<ItemFields<'_>> for Resource {
    type Error = super::ReadError;

    fn try_from(fields: ItemFields<'_>) -> Result<Resource, super::ReadError> {
        let status = match fields.status {
            Some(text) => Some(
                ItemStatus::parse(text)
                    .map_err(|m| super::ReadError::new("configurationItemStatus", m))?,
            ),
            None => None,
        };
        let item = ItemRead {
            head: ItemHead {
                resource_type: fields.resource_type.map(str::to_string),
                resource_id: fields.resource_id.map(str::to_string),
                status,
                captured_at: fields.captured_at,
            },
            configuration: fields
                .configuration
                .map_or(Configuration::Missing, Configuration::Text),
            tags: Some(Tags(fields.tags)),
            relationships: fields.related_types.map(|types| {
                types
                    .iter()
                    .any(|t| USE_PROVING_RELATIONSHIPS.contains(&t.as_str()))
            }),
            event_left_scope: false,
        };
        item.into_resource::<serde::de::value::Error>()
            .map_err(|e| {
                let located = super::error::locate("", "", &e.to_string());
                super::ReadError::new(located.path.replace("(input)", ""), located.message)
            })
    }
}
