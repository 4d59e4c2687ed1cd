//! EC2 `DescribeNetworkInterfaces` output as the AWS CLI prints it: which
//! groups network interfaces list, so that offline `evaluate` can tell a
//! group used from an unused one (SPEC §7).

use crate::json::{InputError, Node};
use crate::model::GroupsInUse;
use serde_json::Value;

/// Reads `{"NetworkInterfaces": [...]}` (or a list of such outputs, one per
/// page) into the groups the interfaces list.
pub fn read_network_interfaces(
    value: &Value,
    name: &str,
    in_use: &mut GroupsInUse,
) -> Result<(), InputError> {
    read_into(&Node::root(value, name), in_use)
}

fn read_into(node: &Node, in_use: &mut GroupsInUse) -> Result<(), InputError> {
    if let Value::Array(_) = node.value {
        for page in node.elements()? {
            read_into(&page, in_use)?;
        }
        return Ok(());
    }
    node.as_object()?;
    if !node.has("NetworkInterfaces") {
        return Err(node.error(
            "expected DescribeNetworkInterfaces output ({\"NetworkInterfaces\": [...]}, as `aws ec2 describe-network-interfaces` prints it)",
        ));
    }
    node.each_in("NetworkInterfaces", |interface| {
        interface.as_object()?;
        interface.each_in("Groups", |group| {
            group.as_object()?;
            let id = group
                .get("GroupId")
                .ok_or_else(|| group.error("GroupId is missing"))?
                .as_str()?;
            in_use.extend([id]);
            Ok(())
        })
    })
}
