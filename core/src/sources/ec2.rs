//! EC2 `DescribeSecurityGroups` output as the AWS CLI prints it (PascalCase),
//! and a single `SecurityGroup` object from it.

use super::{read_group, GroupKeys, PermissionKeys};
use crate::json::{InputError, Node};
use crate::model::SecurityGroup;

const EC2_KEYS: GroupKeys = GroupKeys {
    group_id: "GroupId",
    vpc_id: "VpcId",
    tags: "Tags",
    egress: "IpPermissionsEgress",
    permission: PermissionKeys {
        protocol: "IpProtocol",
        from_port: "FromPort",
        to_port: "ToPort",
        ipv4_arrays: &["IpRanges"],
        ipv4_cidr: "CidrIp",
        ipv6_array: "Ipv6Ranges",
        ipv6_cidr: "CidrIpv6",
        prefix_list_array: "PrefixListIds",
        prefix_list_id: "PrefixListId",
        group_pair_array: "UserIdGroupPairs",
        group_id: "GroupId",
    },
};

/// Reads one element of `SecurityGroups`.
pub fn read_security_group(node: &Node) -> Result<SecurityGroup, InputError> {
    read_group(node, &EC2_KEYS)
}
