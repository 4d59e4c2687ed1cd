//! The one reader: every input shape a user holds, told apart by its keys,
//! read straight from the bytes into the [model](crate::model), borrowing
//! strings from the input instead of building a JSON tree.
//!
//! | shape | told apart by |
//! |---|---|
//! | Config Lambda event | `invokingEvent` |
//! | change notification (the `invokingEvent` object, from SNS or EventBridge) | `messageType` |
//! | `GetResourceConfigHistory` output | `configurationItems` |
//! | `BatchGetResourceConfig` output | `baseConfigurationItems` |
//! | `SelectResourceConfig` output | `Results` |
//! | EC2 `DescribeSecurityGroups` output | `SecurityGroups` |
//! | Config item, event or API form (also a `SelectResourceConfig` row) | `resourceType`, `resourceId`, `configuration` or `configurationItemCaptureTime` |
//! | one EC2 `SecurityGroup` | `GroupId` or `IpPermissionsEgress` |
//! | a bare `configuration` object | `groupId` or `ipPermissionsEgress` |
//! | a list of any of these | a JSON array |
//!
//! Resources are handed to a [`Sink`] as they are read, so that a list of
//! 10,000 items is evaluated item by item and never held whole. Errors name
//! the exact field (`configurationItems[0].configuration.ipPermissionsEgress[2].fromPort`):
//! the reader runs plain serde first and, only when that fails, reads the
//! input again with `serde_path_to_error` to learn where (see [`error`]).

mod error;
pub mod event;
mod group;
pub mod item;
pub mod network;
mod network_interfaces;
mod wire;

pub use error::ReadError;
pub use event::{ConfigEvent, ItemSummary, Trigger};
pub use group::PermissionError;
pub use item::ItemFields;
pub use network::read_network;
pub use network_interfaces::read_network_interfaces;

use crate::model::{Resource, SecurityGroup};
use chrono::{DateTime, Utc};
use error::{locate, path_text};
use event::{EventRead, NotificationRead};
use group::{Camel, GroupRead, Pascal};
use item::{ItemRead, ItemSeed};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use wire::deserialize_members;
use wire::{value, Embedded, Members, Seed, Str, Tags};

/// What an input holds but cannot be evaluated from it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotEvaluated {
    /// An oversized change notification carries no configuration.
    Oversized {
        resource_type: String,
        resource_id: String,
    },
    /// A scheduled notification asks for a sweep of every group.
    Scheduled,
    /// An `evaluationMode` other than `DETECTIVE`: nothing to report.
    NotDetective(String),
    /// `BatchGetResourceConfig` could not process this resource.
    Unprocessed(String),
}

/// What a document says about the resources in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentContext {
    /// A Lambda event's own `ruleParameters` (JSON text).
    pub rule_parameters: Option<String>,
    /// A notification's `notificationCreationTime`.
    pub notification_time: Option<DateTime<Utc>>,
}

/// Receives what an input holds, as it is read.
pub trait Sink {
    /// A Lambda event or notification was read (before what it holds).
    fn document(&mut self, context: &DocumentContext) {
        let _ = context;
    }
    fn resource(&mut self, resource: Resource, context: &DocumentContext);
    fn not_evaluated(&mut self, what: NotEvaluated);
}

/// What one input document holds, collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The resources to evaluate, in input order.
    pub resources: Vec<Resource>,
    /// A Lambda event's own `ruleParameters` (JSON text).
    pub rule_parameters: Option<String>,
    /// A notification's `notificationCreationTime`.
    pub notification_time: Option<DateTime<Utc>>,
    /// What the input holds but cannot be evaluated offline.
    pub not_evaluated: Vec<NotEvaluated>,
}

/// Collects documents: a new one each time the context changes.
#[derive(Default)]
struct Collect(Vec<Document>);

impl Sink for Collect {
    fn resource(&mut self, resource: Resource, context: &DocumentContext) {
        let same = self.0.last().is_some_and(|d| {
            d.rule_parameters == context.rule_parameters
                && d.notification_time == context.notification_time
        });
        if !same {
            self.0.push(Document {
                rule_parameters: context.rule_parameters.clone(),
                notification_time: context.notification_time,
                ..Document::default()
            });
        }
        self.0
            .last_mut()
            .expect("pushed above")
            .resources
            .push(resource);
    }

    fn not_evaluated(&mut self, what: NotEvaluated) {
        if self.0.is_empty() {
            self.0.push(Document::default());
        }
        self.0
            .last_mut()
            .expect("pushed above")
            .not_evaluated
            .push(what);
    }
}

/// Reads every document of an input (one, or several in a row) and collects
/// what they hold.
pub fn read_documents(bytes: &[u8]) -> Result<Vec<Document>, ReadError> {
    let mut collect = Collect::default();
    read_into(bytes, &mut collect)?;
    Ok(collect.0)
}

/// Reads every document of an input (one, or several in a row) into `sink`.
/// On an error, what `sink` received so far is incomplete.
pub fn read_into(bytes: &[u8], sink: &mut dyn Sink) -> Result<(), ReadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReadError::new("", format!("not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ReadError::new("", "empty input: expected a JSON document"));
    }
    let mut plain = serde_json::Deserializer::from_str(text);
    loop {
        if let Err(e) = (DocumentSeed { sink: &mut *sink }).deserialize(&mut plain) {
            return Err(explain(text, e));
        }
        if plain.end().is_ok() {
            return Ok(());
        }
    }
}

/// Says where a failed read went wrong: syntax errors as serde_json words
/// them; data errors with their path, found by reading again with tracking.
fn explain(text: &str, e: serde_json::Error) -> ReadError {
    if !e.is_data() {
        return ReadError::new("", format!("not valid JSON: {e}"));
    }
    let mut tracked = serde_json::Deserializer::from_str(text);
    loop {
        let mut track = serde_path_to_error::Track::new();
        let seed = DocumentSeed { sink: &mut Discard };
        let wrapped = serde_path_to_error::Deserializer::new(&mut tracked, &mut track);
        if let Err(e) = seed.deserialize(wrapped) {
            return locate("", &path_text(&track.path()), &e.to_string());
        }
        if tracked.end().is_ok() {
            // Not found again (it should be): report it without a path.
            return locate("", "", &e.to_string());
        }
    }
}

/// A sink that keeps nothing (the second, tracking read).
struct Discard;

impl Sink for Discard {
    fn resource(&mut self, _: Resource, _: &DocumentContext) {}
    fn not_evaluated(&mut self, _: NotEvaluated) {}
}

/// Reads one value of a fixed type from bytes, naming `root` in errors.
pub(crate) fn read_value<T: for<'a> Deserialize<'a>>(
    bytes: &[u8],
    root: &str,
) -> Result<T, ReadError> {
    let mut plain = serde_json::Deserializer::from_slice(bytes);
    match T::deserialize(&mut plain).and_then(|v| plain.end().map(|()| v)) {
        Ok(value) => Ok(value),
        Err(e) if !e.is_data() => Err(ReadError::new(root, format!("not valid JSON: {e}"))),
        Err(e) => {
            let mut tracked = serde_json::Deserializer::from_slice(bytes);
            match serde_path_to_error::deserialize::<_, T>(&mut tracked) {
                Err(tracked) => Err(locate(
                    root,
                    &path_text(tracked.path()),
                    &tracked.inner().to_string(),
                )),
                Ok(_) => Err(locate(root, "", &e.to_string())),
            }
        }
    }
}

/// Reads one configuration item (errors name it `root`).
pub fn read_item(bytes: &[u8], root: &str) -> Result<Resource, ReadError> {
    read_value::<item::Item>(bytes, root).map(|item| item.0)
}

/// Reads a Config Lambda event (errors name it `event`).
pub fn read_event(bytes: &[u8]) -> Result<ConfigEvent, ReadError> {
    read_value(bytes, "event")
}

/// One JSON document: an array of documents, or an object of a known shape.
struct DocumentSeed<'s> {
    sink: &'s mut dyn Sink,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(DocumentSeed {
                sink: &mut *self.sink,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut object = ObjectRead::default();
        while let Some(key) = map.next_key::<Str>()? {
            object.member(key, &mut map, &mut *self.sink)?;
        }
        object.finish(self.sink)
    }
}

/// The keys that tell shapes apart.
#[derive(Clone, Copy)]
#[repr(usize)]
enum ShapeKey {
    InvokingEvent,
    MessageType,
    Lists,
    Item,
    Ec2Group,
    Configuration,
}

impl ShapeKey {
    fn of(key: &str) -> Option<ShapeKey> {
        Some(match key {
            "invokingEvent" => ShapeKey::InvokingEvent,
            "messageType" => ShapeKey::MessageType,
            "configurationItems" | "baseConfigurationItems" | "Results" | "SecurityGroups" => {
                ShapeKey::Lists
            }
            "resourceType" | "resourceId" | "configuration" | "configurationItemCaptureTime" => {
                ShapeKey::Item
            }
            "GroupId" | "IpPermissionsEgress" => ShapeKey::Ec2Group,
            "groupId" | "ipPermissionsEgress" => ShapeKey::Configuration,
            _ => return None,
        })
    }
}

/// How many keys an unknown shape's message names.
const KEYS_NAMED: usize = 8;

/// An object of any shape, read member by member: each member goes to the
/// reader of the shape it belongs to, lists of items go to the sink as they
/// are read, and the shape is decided once every member is known.
#[derive(Default)]
struct ObjectRead<'de> {
    event: EventRead<'de>,
    notification: NotificationRead<'de>,
    item: ItemRead<'de>,
    ec2_group: GroupRead<Pascal>,
    configuration: GroupRead<Camel>,
    /// Which kinds of [`ShapeKey`] are there.
    present: [bool; 6],
    /// The first keys, for a message when the shape is unknown.
    keys: [Option<Str<'de>>; KEYS_NAMED],
    key_count: usize,
}

impl<'de> ObjectRead<'de> {
    fn member<A: MapAccess<'de>>(
        &mut self,
        key: Str<'de>,
        map: &mut A,
        sink: &mut dyn Sink,
    ) -> Result<(), A::Error> {
        if let Some(kind) = ShapeKey::of(key.as_str()) {
            self.present[kind as usize] = true;
        }
        if let Some(slot) = self.keys.get_mut(self.key_count) {
            *slot = Some(key.clone());
        }
        self.key_count += 1;
        let key = key.as_str();
        let none = DocumentContext::default();
        match key {
            "configurationItems" | "baseConfigurationItems" => {
                map.next_value_seed(ListSeed {
                    seed: ItemSeed::default(),
                    each: |resource| sink.resource(resource, &none),
                })?;
            }
            "Results" => {
                map.next_value_seed(ListSeed {
                    seed: Embedded(ItemSeed::default()),
                    each: |resource| sink.resource(resource, &none),
                })?;
            }
            "SecurityGroups" => {
                map.next_value_seed(ListSeed {
                    seed: wire::Owned::<GroupRead<Pascal>>::new(),
                    each: |group| {
                        sink.resource(Resource::from_group(SecurityGroup::from(group)), &none)
                    },
                })?;
            }
            "unprocessedResourceKeys" => {
                for key in value::<_, Vec<UnprocessedKey>>(map)?.unwrap_or_default() {
                    sink.not_evaluated(NotEvaluated::Unprocessed(
                        key.0.unwrap_or_else(|| "?".to_string()),
                    ));
                }
            }
            "tags" => {
                // A Config item's tags, or a bare configuration's.
                let tags: Option<Tags> = value(map)?;
                self.configuration
                    .set_tags(tags.clone().unwrap_or_default());
                self.item.set_tags(tags);
            }
            _ => {
                let _ = self.event.member(key, map)?
                    || self.notification.member(key, map)?
                    || self.item.member(key, map)?
                    || self.ec2_group.member(key, map)?
                    || self.configuration.member(key, map)?
                    || map.next_value::<de::IgnoredAny>().map(|_| true)?;
            }
        }
        Ok(())
    }

    fn has(&self, kind: ShapeKey) -> bool {
        self.present[kind as usize]
    }

    fn finish<E: de::Error>(self, sink: &mut dyn Sink) -> Result<(), E> {
        if self.has(ShapeKey::InvokingEvent) {
            let event = self.event.event::<E>()?;
            let context = DocumentContext {
                rule_parameters: Some(event.rule_parameters),
                notification_time: event.notification_time,
            };
            deliver(event.trigger, &context, sink);
        } else if self.has(ShapeKey::MessageType) {
            let context = DocumentContext {
                rule_parameters: None,
                notification_time: self.notification.notification_time,
            };
            deliver(self.notification.trigger::<E>(false)?, &context, sink);
        } else if self.has(ShapeKey::Lists) {
            // Read and delivered item by item.
        } else if self.has(ShapeKey::Item) {
            let resource = self.item.into_resource()?;
            sink.resource(resource, &DocumentContext::default());
        } else if self.has(ShapeKey::Ec2Group) {
            let group = self.ec2_group.finish::<E>()?;
            sink.resource(
                Resource::from_group(group.into()),
                &DocumentContext::default(),
            );
        } else if self.has(ShapeKey::Configuration) {
            let group = self.configuration.finish::<E>()?;
            sink.resource(
                Resource::from_group(group.into()),
                &DocumentContext::default(),
            );
        } else {
            let named: Vec<&str> = self.keys.iter().flatten().map(Str::as_str).collect();
            let mut keys = named.join(", ");
            if keys.is_empty() {
                keys.push_str("none");
            } else if self.key_count > named.len() {
                keys.push_str(", …");
            }
            return Err(E::custom(format!(
                "not a shape this tool reads (found keys: {keys}); expected a Config Lambda event, a change notification, a configuration item, a list of items, a configuration, GetResourceConfigHistory, BatchGetResourceConfig or SelectResourceConfig output, DescribeSecurityGroups output or a SecurityGroup"
            )));
        }
        Ok(())
    }
}

/// What a trigger holds, for the sink.
fn deliver(trigger: Trigger, context: &DocumentContext, sink: &mut dyn Sink) {
    sink.document(context);
    match trigger {
        Trigger::Change(resource) => sink.resource(*resource, context),
        Trigger::Oversized(summary) => match summary.not_applicable_resource() {
            Some(resource) => sink.resource(resource, context),
            None => sink.not_evaluated(NotEvaluated::Oversized {
                resource_type: summary.resource_type,
                resource_id: summary.resource_id,
            }),
        },
        Trigger::Scheduled => sink.not_evaluated(NotEvaluated::Scheduled),
        Trigger::NotDetective(mode) => sink.not_evaluated(NotEvaluated::NotDetective(mode)),
    }
}

/// A list whose elements are read with `seed` and handed to `each` one at a
/// time (`null` is an empty list).
struct ListSeed<S, F> {
    seed: S,
    each: F,
}

impl<'de, S: Seed, F: FnMut(S::Value)> DeserializeSeed<'de> for ListSeed<S, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: Seed, F: FnMut(S::Value)> Visitor<'de> for ListSeed<S, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(wire::SeedOf(self.seed.clone()))? {
            (self.each)(value);
        }
        Ok(())
    }
}

/// An element of `unprocessedResourceKeys`; only its id is kept.
#[derive(Default)]
struct UnprocessedKey(Option<String>);

impl<'de> Members<'de> for UnprocessedKey {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "resourceId" {
            return Ok(false);
        }
        self.0 = value::<_, Str>(map)?.map(|s| s.0.into_owned());
        Ok(true)
    }
}

deserialize_members!({} UnprocessedKey);
