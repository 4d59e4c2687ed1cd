//! The AWS Config Lambda event and its `invokingEvent` message types.
//!
//! Config hands a custom rule a JSON object whose `invokingEvent` and
//! `ruleParameters` are themselves JSON *strings*; they are decoded here (an
//! already-decoded object is accepted too), so that nothing else sees the
//! double encoding.

use crate::json::{InputError, Node};
use crate::model::{ItemStatus, Resource};
use crate::sources::config_item;
use chrono::{DateTime, Utc};

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
        let fetch_needed = self.resource_type == crate::model::SECURITY_GROUP_TYPE
            && self.status == ItemStatus::Current
            && !self.event_left_scope;
        (!fetch_needed).then(|| Resource {
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            status: self.status.clone(),
            event_left_scope: self.event_left_scope,
            captured_at: self.captured_at,
            group: None,
        })
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

impl ConfigEvent {
    /// Decodes the event.
    pub fn parse(node: &Node) -> Result<ConfigEvent, InputError> {
        node.as_object()?;
        let optional_string = |key: &str| -> Result<Option<String>, InputError> {
            Ok(node
                .get(key)
                .map(|v| v.as_str())
                .transpose()?
                .map(str::to_string))
        };
        let event_left_scope = node
            .get("eventLeftScope")
            .map(|v| v.as_bool())
            .transpose()?
            .unwrap_or(false);
        let rule_parameters = match node.get("ruleParameters") {
            None => String::new(),
            Some(p) if p.value.is_object() => p.value.to_string(),
            Some(p) => p.as_str()?.to_string(),
        };
        let evaluation_mode = optional_string("evaluationMode")?;
        let invoking = node
            .get("invokingEvent")
            .ok_or_else(|| node.error("invokingEvent is missing"))?;
        let (trigger, notification_time) = match evaluation_mode.as_deref() {
            None | Some("DETECTIVE") => {
                let decoded = invoking.decode_if_string()?;
                let name = invoking.path();
                let invoking = match &decoded {
                    Some(value) => Node::root(value, &name),
                    None => invoking,
                };
                parse_invoking_event(&invoking, event_left_scope)?
            }
            Some(other) => (Trigger::NotDetective(other.to_string()), None),
        };
        Ok(ConfigEvent {
            trigger,
            notification_time,
            rule_parameters,
            result_token: optional_string("resultToken")?,
            event_left_scope,
            execution_role_arn: optional_string("executionRoleArn")?,
            config_rule_name: optional_string("configRuleName")?,
            account_id: optional_string("accountId")?,
        })
    }

    /// The account of `executionRoleArn` (`arn:aws:iam::ACCOUNT:role/…`).
    pub fn execution_role_account(&self) -> Option<&str> {
        let arn = self.execution_role_arn.as_deref()?;
        let account = arn.split(':').nth(4)?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
    }

    /// The account the event is about: the account of `executionRoleArn`,
    /// else `accountId`.
    pub fn event_account(&self) -> Option<&str> {
        self.execution_role_account().or_else(|| {
            self.account_id
                .as_deref()
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        })
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

/// Decodes an `invokingEvent` object.
pub fn parse_invoking_event(
    node: &Node,
    event_left_scope: bool,
) -> Result<(Trigger, Option<DateTime<Utc>>), InputError> {
    node.as_object()?;
    let message_type = node
        .get("messageType")
        .ok_or_else(|| node.error("messageType is missing"))?;
    let time = node
        .get("notificationCreationTime")
        .map(|t| t.as_timestamp())
        .transpose()?;
    let trigger = match message_type.as_str()? {
        "ConfigurationItemChangeNotification" => {
            let item = node
                .get("configurationItem")
                .ok_or_else(|| node.error("configurationItem is missing"))?;
            Trigger::Change(Box::new(config_item::read_item(&item, event_left_scope)?))
        }
        "OversizedConfigurationItemChangeNotification" => {
            let summary = node
                .get("configurationItemSummary")
                .ok_or_else(|| node.error("configurationItemSummary is missing"))?;
            summary.as_object()?;
            let text = |key: &'static str| -> Result<String, InputError> {
                Ok(summary
                    .get(key)
                    .ok_or_else(|| summary.error(format!("{key} is missing")))?
                    .as_str()?
                    .to_string())
            };
            let status = match summary.get("configurationItemStatus") {
                Some(s) => ItemStatus::parse(s.as_str()?).map_err(|m| s.error(m))?,
                None => ItemStatus::Current,
            };
            Trigger::Oversized(ItemSummary {
                resource_type: text("resourceType")?,
                resource_id: text("resourceId")?,
                status,
                captured_at: summary
                    .get("configurationItemCaptureTime")
                    .map(|t| t.as_timestamp())
                    .transpose()?,
                event_left_scope,
            })
        }
        "ScheduledNotification" => Trigger::Scheduled,
        other => {
            return Err(message_type.error(format!(
                "unknown message type {other:?} (expected ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification or ScheduledNotification)"
            )))
        }
    };
    Ok((trigger, time))
}
