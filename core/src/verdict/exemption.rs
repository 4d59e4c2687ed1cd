//! Exemptions (SPEC §5): by group id, by VPC, or by tag, a tag's value
//! optionally starting with the last day it holds.

use crate::model::SecurityGroup;
use crate::params::Parameters;
use chrono::NaiveDate;

/// Why an exemption applies, or why it no longer does.
pub(super) enum Exemption {
    None,
    Holds(String),
    Expired { through: NaiveDate, tag: String },
    InvalidDate(String),
}

pub(super) fn exemption(
    group: &SecurityGroup,
    parameters: &Parameters,
    today: NaiveDate,
) -> Exemption {
    if parameters.exempt_group_ids.contains(&group.group_id) {
        return Exemption::Holds(format!(
            "group {} is listed in ExemptGroupIds",
            group.group_id
        ));
    }
    if let Some(vpc) = group
        .vpc_id
        .as_ref()
        .filter(|vpc| parameters.exempt_vpc_ids.contains(*vpc))
    {
        return Exemption::Holds(format!("VPC {vpc} is listed in ExemptVpcIds"));
    }
    let Some(key) = &parameters.exempt_tag_key else {
        return Exemption::None;
    };
    let Some(value) = group.tags.get(key) else {
        return Exemption::None;
    };
    let tag = format!("tag {key}={value:?}");
    match leading_date(value) {
        LeadingDate::None => Exemption::Holds(tag),
        LeadingDate::Invalid => Exemption::InvalidDate(tag),
        LeadingDate::Date(through) if today <= through => {
            Exemption::Holds(format!("{tag} holds through {through}"))
        }
        LeadingDate::Date(through) => Exemption::Expired { through, tag },
    }
}

enum LeadingDate {
    None,
    Invalid,
    Date(NaiveDate),
}

/// A tag value that starts with `YYYY-MM-DD` is dated; a value shaped like a
/// date that is not one (`2026-02-30`) is invalid rather than permanent.
fn leading_date(value: &str) -> LeadingDate {
    let bytes = value.as_bytes();
    let shaped = bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return LeadingDate::None;
    }
    match NaiveDate::parse_from_str(&value[..10], "%Y-%m-%d") {
        Ok(date) => LeadingDate::Date(date),
        Err(_) => LeadingDate::Invalid,
    }
}
