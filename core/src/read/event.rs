//! The AWS Config Lambda event and its `invokingEvent` message types.
//!
//! Config hands a custom rule a JSON object whose `invokingEvent` and
//! `ruleParameters` are themselves JSON *strings*; they are decoded here (an
//! already-decoded object is accepted too), so that nothing else sees the
//! double encoding. The invoking event is read last, once `eventLeftScope`
//! and `evaluationMode` are known, whatever the members' order.

use super::error::nested;
use super::item::{ItemHead, ItemSeed};
use super::wire::{
    deserialize_members, from_json_text, value, Embedded, Flag, Members, MembersVisitor, Seed, Str,
    Time,
};
use crate::model::{ItemStatus, Resource, SECURITY_GROUP_TYPE};
use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, MapAccess};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The message types of a Config rule's invoking event.
pub const MESSAGE_TYPES: [&str; 3] = [
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
    "ScheduledNotification",
];

/// What the event asks the rule to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// `ConfigurationItemChangeNotification`: evaluate this item.
    Change(Box<Resource>),
    /// `OversizedConfigurationItemChangeNotification`: fetch the item, then evaluate it.
    Oversized(ItemSummary),
    /// `ScheduledNotification`: sweep every group.
    Scheduled,
    /// An `evaluationMode` other than `DETECTIVE`: report nothing.
    NotDetective(String),
}

/// `configurationItemSummary` of an oversized notification.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSummary {
    pub resource_type: String,
    pub resource_id: String,
    pub status: ItemStatus,
    pub captured_at: Option<DateTime<Utc>>,
    pub event_left_scope: bool,
}

impl ItemSummary {
    /// The resource as NOT_APPLICABLE input when the summary alone decides
    /// (deleted, left scope, another type); `None` when the item must be fetched.
    pub fn not_applicable_resource(&self) -> Option<Resource> {
        let fetch_needed = self.resource_type == SECURITY_GROUP_TYPE
            && self.status == ItemStatus::Current
            && !self.event_left_scope;
        (!fetch_needed).then(|| Resource {
            resource_type: self.resource_type.clone().into(),
            resource_id: self.resource_id.clone(),
            status: self.status.clone(),
            event_left_scope: self.event_left_scope,
            captured_at: self.captured_at,
            group: None,
        })
    }
}

/// `configurationItemSummary`: the head of the item, without the item.
#[derive(Default)]
struct SummaryRead(ItemHead);

impl<'de> Members<'de> for SummaryRead {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        self.0.member(key, map)
    }

    fn finish<E: de::Error>(self) -> Result<Self, E> {
        if self.0.resource_type.is_none() {
            return Err(E::custom("resourceType is missing"));
        }
        if self.0.resource_id.is_none() {
            return Err(E::custom("resourceId is missing"));
        }
        Ok(self)
    }
}

deserialize_members!({} SummaryRead);

/// A `messageType` this rule knows.
struct MessageType(String);

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Str::deserialize(deserializer)?;
        if MESSAGE_TYPES.contains(&text.as_str()) {
            Ok(MessageType(text.0.into_owned()))
        } else {
            Err(de::Error::custom(format!(
                "unknown message type {:?} (expected {})",
                text.as_str(),
                MESSAGE_TYPES.join(", ")
            )))
        }
    }
}

/// An invoking event (a configuration item change notification), as read.
#[derive(Default)]
pub(super) struct NotificationRead<'de> {
    message_type: Option<String>,
    item: Option<&'de RawValue>,
    summary: Option<SummaryRead>,
    pub notification_time: Option<DateTime<Utc>>,
}

impl<'de> Members<'de> for NotificationRead<'de> {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "messageType" => self.message_type = value::<_, MessageType>(map)?.map(|m| m.0),
            "configurationItem" => self.item = Some(map.next_value()?),
            "configurationItemSummary" => self.summary = value(map)?,
            "notificationCreationTime" => {
                self.notification_time = value::<_, Time>(map)?.map(|t| t.0)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl NotificationRead<'_> {
    /// The trigger, once every member is read.
    pub(super) fn trigger<E: de::Error>(self, event_left_scope: bool) -> Result<Trigger, E> {
        let message_type = self
            .message_type
            .ok_or_else(|| E::custom("messageType is missing"))?;
        Ok(match message_type.as_str() {
            "ConfigurationItemChangeNotification" => {
                let raw = self
                    .item
                    .filter(|raw| raw.get() != "null")
                    .ok_or_else(|| E::custom("configurationItem is missing"))?;
                let seed = ItemSeed { event_left_scope };
                let resource = from_json_text::<_, E>(raw.get(), seed)
                    .map_err(|e| E::custom(nested("configurationItem", &e.to_string())))?;
                Trigger::Change(Box::new(resource))
            }
            "OversizedConfigurationItemChangeNotification" => {
                let summary = self
                    .summary
                    .ok_or_else(|| E::custom("configurationItemSummary is missing"))?
                    .0;
                Trigger::Oversized(ItemSummary {
                    resource_type: summary.resource_type.unwrap_or_default(),
                    resource_id: summary.resource_id.unwrap_or_default(),
                    status: summary.status.unwrap_or(ItemStatus::Current),
                    captured_at: summary.captured_at,
                    event_left_scope,
                })
            }
            _ => Trigger::Scheduled,
        })
    }
}

/// An invoking event read on its own (SNS and EventBridge deliver it so):
/// the trigger and the notification's time.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotificationSeed {
    pub event_left_scope: bool,
}

impl Seed for NotificationSeed {
    type Value = (Trigger, Option<DateTime<Utc>>);
    fn read<'de, D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let read: NotificationRead = deserializer.deserialize_map(MembersVisitor::default())?;
        let time = read.notification_time;
        Ok((read.trigger(self.event_left_scope)?, time))
    }
}

/// A Config rule's Lambda event.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEvent {
    pub trigger: Trigger,
    pub notification_time: Option<DateTime<Utc>>,
    /// JSON text of the rule's parameters (`""` when the event has none).
    pub rule_parameters: String,
    pub result_token: Option<String>,
    pub event_left_scope: bool,
    pub execution_role_arn: Option<String>,
    pub config_rule_name: Option<String>,
    pub account_id: Option<String>,
}

/// A Lambda event as read, before its invoking event is decoded.
#[derive(Default)]
pub(super) struct EventRead<'de> {
    invoking_event: Option<&'de RawValue>,
    rule_parameters: Option<&'de RawValue>,
    result_token: Option<String>,
    event_left_scope: bool,
    execution_role_arn: Option<String>,
    config_rule_name: Option<String>,
    account_id: Option<String>,
    evaluation_mode: Option<String>,
}

impl<'de> Members<'de> for EventRead<'de> {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        let text = |map: &mut A| -> Result<Option<String>, A::Error> {
            Ok(value::<_, Str>(map)?.map(|s| s.0.into_owned()))
        };
        match key {
            "invokingEvent" => self.invoking_event = Some(map.next_value()?),
            "ruleParameters" => self.rule_parameters = Some(map.next_value()?),
            "resultToken" => self.result_token = text(map)?,
            "eventLeftScope" => {
                self.event_left_scope = value::<_, Flag>(map)?.unwrap_or_default().0
            }
            "executionRoleArn" => self.execution_role_arn = text(map)?,
            "configRuleName" => self.config_rule_name = text(map)?,
            "accountId" => self.account_id = text(map)?,
            "evaluationMode" => self.evaluation_mode = text(map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl EventRead<'_> {
    /// The event, once every member is read.
    pub(super) fn event<E: de::Error>(self) -> Result<ConfigEvent, E> {
        let invoking = self
            .invoking_event
            .filter(|raw| raw.get() != "null")
            .ok_or_else(|| E::custom("invokingEvent is missing"))?;
        let rule_parameters = match self.rule_parameters.map(RawValue::get) {
            None | Some("null") => String::new(),
            Some(text) if text.starts_with('{') => text.to_string(),
            Some(text) => serde_json::from_str::<String>(text).map_err(|_| {
                E::custom(nested(
                    "ruleParameters",
                    &format!("expected a string, found {}", json_type(text)),
                ))
            })?,
        };
        let (trigger, notification_time) = match self.evaluation_mode.as_deref() {
            None | Some("DETECTIVE") => {
                let seed = Embedded(NotificationSeed {
                    event_left_scope: self.event_left_scope,
                });
                let (trigger, time) = from_json_text::<_, E>(invoking.get(), seed)
                    .map_err(|e| E::custom(nested("invokingEvent", &e.to_string())))?;
                (trigger, time)
            }
            Some(other) => (Trigger::NotDetective(other.to_string()), None),
        };
        Ok(ConfigEvent {
            trigger,
            notification_time,
            rule_parameters,
            result_token: self.result_token,
            event_left_scope: self.event_left_scope,
            execution_role_arn: self.execution_role_arn,
            config_rule_name: self.config_rule_name,
            account_id: self.account_id,
        })
    }
}

/// The JSON type of a value's text, for messages.
fn json_type(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

impl<'de> Deserialize<'de> for ConfigEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read: EventRead = deserializer.deserialize_map(MembersVisitor::default())?;
        read.event()
    }
}

impl ConfigEvent {
    /// The account of `executionRoleArn` (`arn:aws:iam::ACCOUNT:role/…`).
    pub fn execution_role_account(&self) -> Option<&str> {
        let arn = self.execution_role_arn.as_deref()?;
        let account = arn.split(':').nth(4)?;
        is_account_id(account).then_some(account)
    }

    /// The account the event is about: the account of `executionRoleArn`,
    /// else `accountId`.
    pub fn event_account(&self) -> Option<&str> {
        self.execution_role_account()
            .or_else(|| self.account_id.as_deref().filter(|a| is_account_id(a)))
    }

    /// The partition of `executionRoleArn` (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn execution_role_partition(&self) -> Option<&str> {
        self.execution_role_arn
            .as_deref()?
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
    }
}

/// Twelve digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}
