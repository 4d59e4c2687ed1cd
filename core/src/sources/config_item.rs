//! AWS Config configuration items, in every form Config hands them out:
//! the event form (in change notifications: `ARN`, `awsAccountId`, tags as a
//! map, `configuration` an object), the API form (`GetResourceConfigHistory`,
//! `BatchGetResourceConfig`: `arn`, `accountId`, `configuration` a JSON
//! string), advanced query rows (`SelectResourceConfig`: any subset of fields,
//! tags as a list, ports as floats), and the bare `configuration` object.

use super::{read_group, read_tags, GroupKeys, PermissionKeys};
use crate::json::{InputError, Node};
use crate::model::{
    usage_from_relationships, ItemStatus, Resource, SecurityGroup, SECURITY_GROUP_TYPE,
};

const CONFIG_KEYS: GroupKeys = GroupKeys {
    group_id: "groupId",
    vpc_id: "vpcId",
    tags: "tags",
    egress: "ipPermissionsEgress",
    permission: PermissionKeys {
        protocol: "ipProtocol",
        from_port: "fromPort",
        to_port: "toPort",
        ipv4_arrays: &["ipv4Ranges", "ipRanges"],
        ipv4_cidr: "cidrIp",
        ipv6_array: "ipv6Ranges",
        ipv6_cidr: "cidrIpv6",
        prefix_list_array: "prefixListIds",
        prefix_list_id: "prefixListId",
        group_pair_array: "userIdGroupPairs",
        group_id: "groupId",
    },
};

/// Reads a configuration item (any form). `event_left_scope` comes from the
/// Lambda event around it, if any.
pub fn read_item(node: &Node, event_left_scope: bool) -> Result<Resource, InputError> {
    node.as_object()?;
    let resource_type = match node.get("resourceType") {
        Some(t) => t.as_str()?.to_string(),
        // Advanced query rows hold only the fields selected.
        None => SECURITY_GROUP_TYPE.to_string(),
    };
    let status = match node.get("configurationItemStatus") {
        Some(s) => ItemStatus::parse(s.as_str()?).map_err(|m| s.error(m))?,
        None => ItemStatus::Current,
    };
    let captured_at = node
        .get("configurationItemCaptureTime")
        .map(|t| t.as_timestamp())
        .transpose()?;
    let resource_id = node.get("resourceId").map(|id| id.as_str()).transpose()?;

    let applicable =
        resource_type == SECURITY_GROUP_TYPE && status == ItemStatus::Current && !event_left_scope;
    let group = if applicable {
        let configuration = node.get("configuration").ok_or_else(|| {
            node.error("configuration is missing (a current security group item must carry one)")
        })?;
        let decoded = configuration.decode_if_string()?;
        let name = configuration.path();
        let configuration = match &decoded {
            Some(value) => Node::root(value, &name),
            None => configuration,
        };
        let mut group = read_configuration(&configuration)?;
        if let Some(tags) = node.get("tags") {
            read_tags(&tags, &mut group.tags)?;
        }
        if let Some(relationships) = node.get("relationships") {
            let mut related = Vec::new();
            for relationship in relationships.elements()? {
                relationship.as_object()?;
                if let Some(t) = relationship.get("resourceType") {
                    related.push(t.as_str()?);
                }
            }
            group.usage = usage_from_relationships(related);
        }
        Some(group)
    } else {
        None
    };
    let resource_id = match (resource_id, &group) {
        (Some(id), _) => id.to_string(),
        (None, Some(group)) => group.group_id.clone(),
        (None, None) => return Err(node.error("resourceId is missing")),
    };
    Ok(Resource {
        resource_type,
        resource_id,
        status,
        event_left_scope,
        captured_at,
        group,
    })
}

/// Reads the `configuration` of a security group item (camelCase, as
/// `DescribeSecurityGroups` returns it, legacy `ipRanges` included).
pub fn read_configuration(node: &Node) -> Result<SecurityGroup, InputError> {
    read_group(node, &CONFIG_KEYS)
}
