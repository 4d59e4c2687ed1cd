//! EC2 SDK values (from `DescribeSecurityGroups` in the Lambda's sweep, in
//! `sg-egress scan` and in remediation) into the model: each conversion
//! written once.

use aws_sdk_ec2::types::{IpPermission, SecurityGroup as SdkSecurityGroup};
use sg_egress_core::model::{EgressPermission, Protocol, SecurityGroup, Usage};
use sg_egress_core::ReadError;

/// An SDK permission, for its one conversion into the model.
pub struct SdkPermission<'a>(pub &'a IpPermission);

impl TryFrom<SdkPermission<'_>> for EgressPermission {
    type Error = (&'static str, String);

    /// An unknown protocol or a port out of range is an error naming the member.
    fn try_from(SdkPermission(permission): SdkPermission<'_>) -> Result<Self, Self::Error> {
        let text = permission
            .ip_protocol()
            .ok_or(("IpProtocol", "is missing".to_string()))?;
        let protocol: Protocol = text.parse().map_err(|e| ("IpProtocol", format!("{e}")))?;
        let mut out = EgressPermission::new(
            protocol,
            permission.from_port().map(i64::from),
            permission.to_port().map(i64::from),
        )
        .map_err(|e| {
            let member = match e {
                sg_egress_core::model::PortError::From(_) => "FromPort",
                sg_egress_core::model::PortError::To(_) => "ToPort",
            };
            (member, e.to_string())
        })?;
        out.extend_cidrs(
            permission
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip())
                .chain(
                    permission
                        .ipv6_ranges()
                        .iter()
                        .filter_map(|r| r.cidr_ipv6()),
                ),
        );
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
}

/// An SDK group, for its one conversion into the model.
pub struct SdkGroup<'a>(pub &'a SdkSecurityGroup);

impl TryFrom<SdkGroup<'_>> for SecurityGroup {
    type Error = ReadError;

    /// A permission that cannot be read is an error naming the group, the
    /// permission and the member.
    fn try_from(SdkGroup(group): SdkGroup<'_>) -> Result<Self, ReadError> {
        let group_id = group
            .group_id()
            .ok_or_else(|| ReadError::new("SecurityGroups[?]", "GroupId is missing"))?
            .to_string();
        let mut egress = Vec::new();
        for (index, permission) in group.ip_permissions_egress().iter().enumerate() {
            egress.push(
                EgressPermission::try_from(SdkPermission(permission)).map_err(
                    |(member, message)| {
                        ReadError::new(
                            format!(
                                "SecurityGroups[{group_id}].IpPermissionsEgress[{index}].{member}"
                            ),
                            message,
                        )
                    },
                )?,
            );
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
}
