//! EC2 SDK `SecurityGroup` values (from `DescribeSecurityGroups` in the
//! Lambda's sweep and in `sg-egress scan`) into the model.

use aws_sdk_ec2::types::{IpPermission, SecurityGroup as SdkSecurityGroup};
use sg_egress_core::json::InputError;
use sg_egress_core::model::{EgressPermission, PortError, Protocol, SecurityGroup, Usage};

/// Converts one group; an unknown protocol or port is an error that names
/// the group and the permission.
pub fn read_sdk_group(group: &SdkSecurityGroup) -> Result<SecurityGroup, InputError> {
    let group_id = group
        .group_id()
        .ok_or_else(|| InputError::new("SecurityGroups[?]", "GroupId is missing"))?
        .to_string();
    let mut egress = Vec::new();
    for (index, permission) in group.ip_permissions_egress().iter().enumerate() {
        let path = format!("SecurityGroups[{group_id}].IpPermissionsEgress[{index}]");
        egress.push(read_sdk_permission(permission, &path)?);
    }
    Ok(SecurityGroup {
        vpc_id: group.vpc_id().map(str::to_string),
        tags: group
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect(),
        usage: Usage::Unknown,
        egress,
        group_id,
    })
}

fn read_sdk_permission(
    permission: &IpPermission,
    path: &str,
) -> Result<EgressPermission, InputError> {
    let protocol_text = permission
        .ip_protocol()
        .ok_or_else(|| InputError::new(path, "IpProtocol is missing"))?;
    let protocol = Protocol::parse(protocol_text)
        .map_err(|m| InputError::new(format!("{path}.IpProtocol"), m))?;
    let mut out = EgressPermission::new(
        protocol,
        permission.from_port().map(i64::from),
        permission.to_port().map(i64::from),
    )
    .map_err(|e| match e {
        PortError::From(p) => InputError::new(
            format!("{path}.FromPort"),
            format!("port {p} is outside -1..=65535"),
        ),
        PortError::To(p) => InputError::new(
            format!("{path}.ToPort"),
            format!("port {p} is outside -1..=65535"),
        ),
    })?;
    for range in permission.ip_ranges() {
        if let Some(cidr) = range.cidr_ip() {
            out.add_cidr(cidr);
        }
    }
    for range in permission.ipv6_ranges() {
        if let Some(cidr) = range.cidr_ipv6() {
            out.add_cidr(cidr);
        }
    }
    out.prefix_list_ids.extend(
        permission
            .prefix_list_ids()
            .iter()
            .filter_map(|p| p.prefix_list_id())
            .map(str::to_string),
    );
    out.referenced_group_ids.extend(
        permission
            .user_id_group_pairs()
            .iter()
            .map(|p| p.group_id().unwrap_or("").to_string()),
    );
    Ok(out)
}
