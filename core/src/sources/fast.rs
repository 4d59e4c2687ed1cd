//! A fast path for the commonest input, one configuration item: it reads
//! only the fields the rule needs, borrowing strings from the input instead of
//! building a JSON tree, into the same model through the same constructors.
//!
//! It declines (returns `None`) anything unusual: a wrong type, a duplicate
//! key, a double-encoded configuration, an epoch timestamp, an unknown status.
//! The general reader then reads the input and, where the input is bad,
//! reports the exact field. `tests/properties.rs` checks that both readers
//! agree.

use crate::json::{integer_from_float, integer_from_text};
use crate::model::{
    usage_from_relationships, EgressPermission, ItemStatus, Protocol, Resource, SecurityGroup,
    Usage, SECURITY_GROUP_TYPE,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

type Text<'a> = Cow<'a, str>;

/// A member that is there, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemView<'a> {
    // Keys that make the general reader take the document for another shape.
    #[serde(default)]
    invoking_event: Present,
    #[serde(default)]
    message_type: Present,
    #[serde(default)]
    configuration_items: Present,
    #[serde(default)]
    base_configuration_items: Present,
    #[serde(default, rename = "Results")]
    results: Present,
    #[serde(default, rename = "SecurityGroups")]
    security_groups: Present,

    #[serde(borrow)]
    resource_type: Option<Text<'a>>,
    #[serde(borrow)]
    resource_id: Option<Text<'a>>,
    #[serde(borrow)]
    configuration_item_status: Option<Text<'a>>,
    #[serde(borrow)]
    configuration_item_capture_time: Option<Text<'a>>,
    #[serde(borrow)]
    configuration: Option<ConfigurationView<'a>>,
    #[serde(borrow)]
    tags: Option<BTreeMap<Text<'a>, Option<Text<'a>>>>,
    #[serde(borrow)]
    relationships: Option<Vec<RelationshipView<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigurationView<'a> {
    #[serde(borrow)]
    group_id: Option<Text<'a>>,
    #[serde(borrow)]
    vpc_id: Option<Text<'a>>,
    #[serde(borrow)]
    tags: Option<Vec<TagView<'a>>>,
    #[serde(borrow)]
    ip_permissions_egress: Option<Vec<PermissionView<'a>>>,
}

#[derive(Deserialize)]
struct TagView<'a> {
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(borrow)]
    value: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipView<'a> {
    #[serde(borrow)]
    resource_type: Option<Text<'a>>,
}

/// A number or a string, read without buffering (what an untagged enum would do).
enum Scalar<'a> {
    Int(i64),
    Float(f64),
    Text(Text<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v)
                    .map(Scalar::Int)
                    .unwrap_or(Scalar::Float(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionView<'a> {
    #[serde(borrow)]
    ip_protocol: Option<Scalar<'a>>,
    #[serde(borrow)]
    from_port: Option<Scalar<'a>>,
    #[serde(borrow)]
    to_port: Option<Scalar<'a>>,
    #[serde(borrow)]
    ipv4_ranges: Option<Vec<CidrIpView<'a>>>,
    #[serde(borrow)]
    ip_ranges: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    ipv6_ranges: Option<Vec<CidrIpv6View<'a>>>,
    #[serde(borrow)]
    prefix_list_ids: Option<Vec<PrefixListView<'a>>>,
    #[serde(borrow)]
    user_id_group_pairs: Option<Vec<GroupPairView<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CidrIpView<'a> {
    #[serde(borrow)]
    cidr_ip: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CidrIpv6View<'a> {
    #[serde(borrow)]
    cidr_ipv6: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrefixListView<'a> {
    #[serde(borrow)]
    prefix_list_id: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupPairView<'a> {
    #[serde(borrow)]
    group_id: Option<Text<'a>>,
}

fn port(value: Option<Scalar>) -> Option<Option<i64>> {
    match value {
        None => Some(None),
        Some(Scalar::Int(i)) => Some(Some(i)),
        Some(Scalar::Float(f)) => integer_from_float(f).map(Some),
        Some(Scalar::Text(t)) => integer_from_text(&t).map(Some),
    }
}

fn permission(view: PermissionView) -> Option<EgressPermission> {
    let protocol = match view.ip_protocol? {
        Scalar::Text(t) => Protocol::parse(&t).ok()?,
        Scalar::Int(i) => Protocol::parse(&i.to_string()).ok()?,
        Scalar::Float(_) => return None,
    };
    let mut out =
        EgressPermission::new(protocol, port(view.from_port)?, port(view.to_port)?).ok()?;
    for range in view.ipv4_ranges.unwrap_or_default() {
        out.add_cidr(&range.cidr_ip);
    }
    for cidr in view.ip_ranges.unwrap_or_default() {
        out.add_cidr(&cidr);
    }
    for range in view.ipv6_ranges.unwrap_or_default() {
        out.add_cidr(&range.cidr_ipv6);
    }
    out.prefix_list_ids.extend(
        view.prefix_list_ids
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.prefix_list_id.into_owned()),
    );
    out.referenced_group_ids.extend(
        view.user_id_group_pairs
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.group_id.unwrap_or_default().into_owned()),
    );
    Some(out)
}

/// Reads one configuration item (event or API form, `configuration` an
/// object), or declines.
pub fn read_item(text: &str) -> Option<Resource> {
    resource(serde_json::from_str(text).ok()?)
}

/// Reads a JSON list of configuration items, or declines (when any item is
/// unusual, the general reader reads the whole list).
pub fn read_items(text: &str) -> Option<Vec<Resource>> {
    let views: Vec<ItemView> = serde_json::from_str(text).ok()?;
    views.into_iter().map(resource).collect()
}

fn resource(view: ItemView) -> Option<Resource> {
    let other_shape = [
        &view.invoking_event,
        &view.message_type,
        &view.configuration_items,
        &view.base_configuration_items,
        &view.results,
        &view.security_groups,
    ];
    if other_shape.iter().any(|present| present.0) {
        return None;
    }
    let resource_type = view
        .resource_type
        .map(Cow::into_owned)
        .unwrap_or_else(|| SECURITY_GROUP_TYPE.to_string());
    let status = match view.configuration_item_status {
        Some(s) => ItemStatus::parse(&s).ok()?,
        None => ItemStatus::Current,
    };
    let captured_at = match view.configuration_item_capture_time {
        Some(t) => Some(
            DateTime::parse_from_rfc3339(t.trim())
                .ok()?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let group = if resource_type == SECURITY_GROUP_TYPE && status == ItemStatus::Current {
        let configuration = view.configuration?;
        let mut tags = BTreeMap::new();
        for tag in configuration.tags.unwrap_or_default() {
            tags.insert(
                tag.key.into_owned(),
                tag.value.unwrap_or_default().into_owned(),
            );
        }
        for (key, value) in view.tags.unwrap_or_default() {
            tags.insert(key.into_owned(), value.unwrap_or_default().into_owned());
        }
        let usage = match view.relationships {
            None => Usage::Unknown,
            Some(relationships) => usage_from_relationships(
                relationships
                    .iter()
                    .filter_map(|r| r.resource_type.as_deref()),
            ),
        };
        let egress = configuration
            .ip_permissions_egress
            .unwrap_or_default()
            .into_iter()
            .map(permission)
            .collect::<Option<Vec<_>>>()?;
        Some(SecurityGroup {
            group_id: configuration.group_id?.into_owned(),
            vpc_id: configuration.vpc_id.map(Cow::into_owned),
            tags,
            usage,
            egress,
        })
    } else {
        None
    };
    let resource_id = match (view.resource_id, &group) {
        (Some(id), _) => id.into_owned(),
        (None, Some(group)) => group.group_id.clone(),
        (None, None) => return None,
    };
    Some(Resource {
        resource_type,
        resource_id,
        status,
        event_left_scope: false,
        captured_at,
        group,
    })
}
