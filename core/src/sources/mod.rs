//! Every input shape a user holds, told apart by its keys, and read into
//! [`Resource`]s.
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
//! | one EC2 `SecurityGroup` | `GroupId` |
//! | a bare `configuration` object | `groupId` or `ipPermissionsEgress` |
//! | a list of any of these | a JSON array |

pub mod config_item;
pub mod ec2;
pub mod fast;
pub mod network_interfaces;

use crate::event::{self, Trigger};
use crate::json::{InputError, Node};
use crate::model::{EgressPermission, Protocol, Resource, SecurityGroup, Usage};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// What one input document holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The resources to evaluate, in input order.
    pub resources: Vec<Resource>,
    /// A Lambda event's own `ruleParameters` (JSON text).
    pub rule_parameters: Option<String>,
    /// A notification's `notificationCreationTime`.
    pub notification_time: Option<DateTime<Utc>>,
    /// What the input holds but cannot be evaluated offline, and why.
    pub not_evaluated: Vec<String>,
}

/// Reads any supported shape.
pub fn read_document(value: &Value) -> Result<Document, InputError> {
    let root = Node::root(value, "");
    let mut document = Document::default();
    read_into(&root, &mut document)?;
    Ok(document)
}

fn read_into(node: &Node, document: &mut Document) -> Result<(), InputError> {
    if let Value::Array(_) = node.value {
        for element in node.elements()? {
            read_into(&element, document)?;
        }
        return Ok(());
    }
    let object = node.as_object()?;
    let has = |key: &str| object.contains_key(key);
    if has("invokingEvent") {
        let config_event = event::ConfigEvent::parse(node)?;
        document.rule_parameters = Some(config_event.rule_parameters.clone());
        read_trigger(
            config_event.trigger,
            config_event.notification_time,
            document,
        );
    } else if has("messageType") {
        let (trigger, time) = event::parse_invoking_event(node, false)?;
        read_trigger(trigger, time, document);
    } else if has("configurationItems") {
        node.each_in("configurationItems", |item| {
            document
                .resources
                .push(config_item::read_item(&item, false)?);
            Ok(())
        })?;
    } else if has("baseConfigurationItems") {
        node.each_in("baseConfigurationItems", |item| {
            document
                .resources
                .push(config_item::read_item(&item, false)?);
            Ok(())
        })?;
        node.each_in("unprocessedResourceKeys", |key| {
            let id = key
                .get("resourceId")
                .map(|id| id.as_str())
                .transpose()?
                .unwrap_or("?");
            document.not_evaluated.push(format!(
                "{id}: listed in unprocessedResourceKeys; request it again"
            ));
            Ok(())
        })?;
    } else if has("Results") {
        node.each_in("Results", |row| {
            let decoded = row.decode_if_string()?;
            let name = row.path();
            let row = match &decoded {
                Some(value) => Node::root(value, &name),
                None => row,
            };
            document
                .resources
                .push(config_item::read_item(&row, false)?);
            Ok(())
        })?;
    } else if has("SecurityGroups") {
        node.each_in("SecurityGroups", |group| {
            document
                .resources
                .push(Resource::from_group(ec2::read_security_group(&group)?));
            Ok(())
        })?;
    } else if has("resourceType")
        || has("resourceId")
        || has("configuration")
        || has("configurationItemCaptureTime")
    {
        document
            .resources
            .push(config_item::read_item(node, false)?);
    } else if has("GroupId") || has("IpPermissionsEgress") {
        document
            .resources
            .push(Resource::from_group(ec2::read_security_group(node)?));
    } else if has("groupId") || has("ipPermissionsEgress") {
        document
            .resources
            .push(Resource::from_group(config_item::read_configuration(node)?));
    } else {
        let mut keys: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
        if object.len() > keys.len() {
            keys.push("…");
        }
        return Err(node.error(format!(
            "not a shape this tool reads (found keys: {}); expected a Config Lambda event, a change notification, a configuration item, a list of items, a configuration, GetResourceConfigHistory, BatchGetResourceConfig or SelectResourceConfig output, DescribeSecurityGroups output or a SecurityGroup",
            if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
        )));
    }
    Ok(())
}

fn read_trigger(trigger: Trigger, time: Option<DateTime<Utc>>, document: &mut Document) {
    document.notification_time = time.or(document.notification_time);
    match trigger {
        Trigger::Change(resource) => document.resources.push(*resource),
        Trigger::Oversized(summary) => match summary.not_applicable_resource() {
            Some(resource) => document.resources.push(resource),
            None => document.not_evaluated.push(format!(
                "{}: oversized change notification carries no configuration; fetch it with `aws configservice get-resource-config-history --resource-type {} --resource-id {} --limit 1` and evaluate that",
                summary.resource_id, summary.resource_type, summary.resource_id
            )),
        },
        Trigger::Scheduled => document.not_evaluated.push(
            "scheduled notification: a sweep of every group needs AWS; run `sg-egress scan` for that".to_string(),
        ),
        Trigger::NotDetective(mode) => document
            .not_evaluated
            .push(format!("evaluationMode is {mode}: this rule only evaluates in DETECTIVE mode, nothing to report")),
    }
}

/// The key names of one spelling of a security group (Config's camelCase or EC2's PascalCase).
pub(crate) struct GroupKeys {
    pub group_id: &'static str,
    pub vpc_id: &'static str,
    pub tags: &'static str,
    pub egress: &'static str,
    pub permission: PermissionKeys,
}

/// Reads a security group in either spelling. Usage is unknown: only a
/// configuration item's relationships tell it.
pub(crate) fn read_group(node: &Node, keys: &GroupKeys) -> Result<SecurityGroup, InputError> {
    node.as_object()?;
    let group_id = node
        .get(keys.group_id)
        .ok_or_else(|| node.error(format!("{} is missing", keys.group_id)))?
        .as_str()?
        .to_string();
    let vpc_id = node
        .get(keys.vpc_id)
        .map(|v| v.as_str())
        .transpose()?
        .map(str::to_string);
    let mut tags = BTreeMap::new();
    if let Some(list) = node.get(keys.tags) {
        read_tags(&list, &mut tags)?;
    }
    let mut egress = Vec::new();
    node.each_in(keys.egress, |permission| {
        egress.push(read_permission(&permission, &keys.permission)?);
        Ok(())
    })?;
    Ok(SecurityGroup {
        group_id,
        vpc_id,
        tags,
        usage: Usage::Unknown,
        egress,
    })
}

/// The key names of one spelling of IP permissions.
pub(crate) struct PermissionKeys {
    pub protocol: &'static str,
    pub from_port: &'static str,
    pub to_port: &'static str,
    /// Arrays of IPv4 blocks: each element an object with `ipv4_cidr`, or a bare string.
    pub ipv4_arrays: &'static [&'static str],
    pub ipv4_cidr: &'static str,
    pub ipv6_array: &'static str,
    pub ipv6_cidr: &'static str,
    pub prefix_list_array: &'static str,
    pub prefix_list_id: &'static str,
    pub group_pair_array: &'static str,
    pub group_id: &'static str,
}

/// Reads one permission element.
pub(crate) fn read_permission(
    node: &Node,
    keys: &PermissionKeys,
) -> Result<EgressPermission, InputError> {
    node.as_object()?;
    let protocol_node = node
        .get(keys.protocol)
        .ok_or_else(|| node.error(format!("{} is missing", keys.protocol)))?;
    let protocol_text = match protocol_node.value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(protocol_node.error("expected a protocol name or number")),
    };
    let protocol = Protocol::parse(&protocol_text).map_err(|m| protocol_node.error(m))?;
    let from = node.get(keys.from_port);
    let to = node.get(keys.to_port);
    let from_port = from.as_ref().map(Node::as_integer).transpose()?;
    let to_port = to.as_ref().map(Node::as_integer).transpose()?;
    let mut permission =
        EgressPermission::new(protocol, from_port, to_port).map_err(|e| match e {
            crate::model::PortError::From(p) => from
                .as_ref()
                .unwrap_or(node)
                .error(format!("port {p} is outside -1..=65535")),
            crate::model::PortError::To(p) => to
                .as_ref()
                .unwrap_or(node)
                .error(format!("port {p} is outside -1..=65535")),
        })?;
    for array in keys.ipv4_arrays {
        node.each_in(array, |range| {
            permission.add_cidr(cidr_text(&range, keys.ipv4_cidr)?);
            Ok(())
        })?;
    }
    node.each_in(keys.ipv6_array, |range| {
        permission.add_cidr(cidr_text(&range, keys.ipv6_cidr)?);
        Ok(())
    })?;
    node.each_in(keys.prefix_list_array, |list| {
        let id = member_str(&list, keys.prefix_list_id)?;
        permission.prefix_list_ids.push(id.to_string());
        Ok(())
    })?;
    node.each_in(keys.group_pair_array, |pair| {
        pair.as_object()?;
        let id = pair
            .get(keys.group_id)
            .map(|n| n.as_str())
            .transpose()?
            .unwrap_or("");
        permission.referenced_group_ids.push(id.to_string());
        Ok(())
    })?;
    Ok(permission)
}

fn cidr_text<'v>(range: &Node<'v, '_>, key: &str) -> Result<&'v str, InputError> {
    match range.value {
        Value::String(s) => Ok(s),
        Value::Object(_) => member_str(range, key),
        _ => Err(range.error(format!("expected an object with {key} or a CIDR string"))),
    }
}

fn member_str<'v>(node: &Node<'v, '_>, key: &str) -> Result<&'v str, InputError> {
    node.as_object()?;
    node.get(key)
        .ok_or_else(|| node.error(format!("{key} is missing")))?
        .as_str()
}

/// Reads tags given as a map (`{"Name": "web"}`, a Config item's top level)
/// or as a list of `{key, value}` / `{Key, Value}` objects (a configuration's
/// and EC2's tags, and advanced query rows) into `tags`.
pub(crate) fn read_tags(
    node: &Node,
    tags: &mut BTreeMap<String, String>,
) -> Result<(), InputError> {
    match node.value {
        Value::Object(map) => {
            for key in map.keys() {
                let value = node.get(key).map(|v| v.as_str()).transpose()?.unwrap_or("");
                tags.insert(key.clone(), value.to_string());
            }
        }
        Value::Array(_) => {
            for tag in node.elements()? {
                tag.as_object()?;
                let key = tag
                    .get_any(&["key", "Key"])
                    .ok_or_else(|| tag.error("key is missing"))?
                    .as_str()?;
                let value = tag
                    .get_any(&["value", "Value"])
                    .map(|v| v.as_str())
                    .transpose()?
                    .unwrap_or("");
                tags.insert(key.to_string(), value.to_string());
            }
        }
        _ => return Err(node.error("expected tags as an object or a list of {key, value}")),
    }
    Ok(())
}

/// Parses the JSON documents of one input (one, or several in a row).
pub fn read_documents(bytes: &[u8]) -> Result<Vec<Document>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("empty input: expected a JSON document".to_string());
    }
    let fast = match text.trim_start().as_bytes().first() {
        Some(b'{') => fast::read_item(text).map(|r| vec![r]),
        Some(b'[') => fast::read_items(text),
        _ => None,
    };
    if let Some(resources) = fast {
        return Ok(vec![Document {
            resources,
            ..Document::default()
        }]);
    }
    let mut documents = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value = value.map_err(|e| format!("not valid JSON: {e}"))?;
        documents.push(read_document(&value).map_err(|e| e.to_string())?);
    }
    Ok(documents)
}
