//! The decision: a normalized group, the rule's parameters and "now" in, a
//! compliance type and an annotation out. Pure: the clock is an argument.

use crate::cidr::{Cidr, Family};
use crate::coverage::{covers_everything, Rect};
use crate::model::{
    EgressPermission, ItemStatus, Protocol, Resource, SecurityGroup, Usage, SECURITY_GROUP_TYPE,
};
use crate::params::Parameters;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The longest annotation PutEvaluations accepts: 256 characters, counted
/// as AWS counts them, in UTF-16 code units (SPEC §3). Both counts are kept
/// within it.
pub const MAX_ANNOTATION_CHARS: usize = 256;

/// A PutEvaluations `ComplianceType` (never `INSUFFICIENT_DATA`, which
/// PutEvaluations rejects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    Compliant,
    NonCompliant,
    NotApplicable,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl fmt::Display for Compliance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a group leaves open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Opening {
    AllTraffic,
    AllTcpPorts,
    AllUdpPorts,
}

impl fmt::Display for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Opening::AllTraffic => "all traffic",
            Opening::AllTcpPorts => "all TCP ports",
            Opening::AllUdpPorts => "all UDP ports",
        })
    }
}

/// One way a group is open to a whole address family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub opening: Opening,
    pub family: Family,
    /// The destinations that make it so, widest first in address order, as
    /// written in the input (`0.0.0.0/0`, or `0.0.0.0/0 via pl-…` for a
    /// prefix list entry).
    pub destinations: Vec<String>,
    /// No single permission opens it: several narrower ones do together.
    pub combined: bool,
    /// Indexes into the group's egress of the permissions that open it on
    /// their own (empty when `combined`).
    pub permissions: Vec<usize>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.opening, self.destinations.join(", "))?;
        if self.combined {
            f.write_str(" (several rules together)")?;
        }
        Ok(())
    }
}

/// Entries of managed prefix lists, when known (`pl-…` → CIDR blocks).
/// Lists not in here count as restricted destinations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownPrefixLists {
    entries: BTreeMap<String, Vec<(String, Cidr)>>,
}

impl KnownPrefixLists {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the entries of one list; each must be a valid CIDR block.
    pub fn insert<S: AsRef<str>>(
        &mut self,
        prefix_list_id: &str,
        cidrs: &[S],
    ) -> Result<(), String> {
        let mut parsed = Vec::with_capacity(cidrs.len());
        for text in cidrs {
            let text = text.as_ref();
            let block = Cidr::parse(text).ok_or_else(|| {
                format!("prefix list {prefix_list_id}: {text:?} is not a CIDR block")
            })?;
            parsed.push((text.to_string(), block));
        }
        self.entries.insert(prefix_list_id.to_string(), parsed);
        Ok(())
    }

    pub fn contains(&self, prefix_list_id: &str) -> bool {
        self.entries.contains_key(prefix_list_id)
    }

    fn get(&self, prefix_list_id: &str) -> Option<&[(String, Cidr)]> {
        self.entries.get(prefix_list_id).map(Vec::as_slice)
    }
}

/// The outcome for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub compliance: Compliance,
    pub annotation: Option<String>,
    /// What is open, whether or not an exemption applies.
    pub findings: Vec<Finding>,
}

/// A destination of one family reached by one permission.
struct Destination<'a> {
    label: Cow<'a, str>,
    block: Cidr,
    permission: usize,
}

fn destinations_of<'a>(
    group: &'a SecurityGroup,
    prefix_lists: &'a KnownPrefixLists,
    family: Family,
) -> Vec<Destination<'a>> {
    let mut out = Vec::new();
    for (index, permission) in group.egress.iter().enumerate() {
        for cidr in &permission.cidrs {
            if let Some(block) = cidr.block.filter(|b| b.family == family) {
                out.push(Destination {
                    label: Cow::Borrowed(&cidr.text),
                    block,
                    permission: index,
                });
            }
        }
        for id in &permission.prefix_list_ids {
            for (text, block) in prefix_lists.get(id).unwrap_or_default() {
                if block.family == family {
                    out.push(Destination {
                        label: Cow::Owned(format!("{text} via {id}")),
                        block: *block,
                        permission: index,
                    });
                }
            }
        }
    }
    out
}

/// The labels of the widest blocks among `destinations`, in address order:
/// CIDR blocks nest or are disjoint, so these are the ones that matter.
fn widest_labels(destinations: &[&Destination]) -> Vec<String> {
    let mut sorted: Vec<&&Destination> = destinations.iter().collect();
    sorted.sort_by(|a, b| {
        (a.block.first, std::cmp::Reverse(a.block.last), &a.label).cmp(&(
            b.block.first,
            std::cmp::Reverse(b.block.last),
            &b.label,
        ))
    });
    let mut labels = Vec::new();
    let mut reach: Option<u128> = None;
    for d in sorted {
        if reach.is_some_and(|r| d.block.last <= r) {
            continue;
        }
        reach = Some(d.block.last);
        labels.push(d.label.to_string());
    }
    labels
}

fn rect(first_port: u16, last_port: u16, block: &Cidr) -> Rect {
    Rect {
        first_port: u32::from(first_port),
        last_port: u32::from(last_port),
        first_address: block.first,
        last_address: block.last,
    }
}

/// Is `opening` open to the whole `family`, and if so, through which destinations?
fn find(
    group: &SecurityGroup,
    destinations: &[Destination],
    opening: Opening,
    family: Family,
) -> Option<Finding> {
    let ports_of = |permission: &EgressPermission| match opening {
        Opening::AllTraffic => (permission.protocol == Protocol::All).then_some((0, 65535)),
        Opening::AllTcpPorts => permission.ports_for(Protocol::Tcp),
        Opening::AllUdpPorts => permission.ports_for(Protocol::Udp),
    };
    let relevant: Vec<(&Destination, (u16, u16))> = destinations
        .iter()
        .filter_map(|d| ports_of(&group.egress[d.permission]).map(|ports| (d, ports)))
        .collect();
    let rects: Vec<Rect> = relevant
        .iter()
        .map(|(d, (lo, hi))| rect(*lo, *hi, &d.block))
        .collect();
    let max = family.max_address();
    if !covers_everything(&rects, 1, 65535, max) {
        return None;
    }
    // Prefer the permissions that span every port on their own: when they
    // suffice, they alone are named, and each can be revoked by itself.
    let spanning: Vec<&Destination> = relevant
        .iter()
        .filter(|(_, (lo, hi))| *lo <= 1 && *hi == 65535)
        .map(|(d, _)| *d)
        .collect();
    let spanning_rects: Vec<Rect> = spanning.iter().map(|d| rect(1, 65535, &d.block)).collect();
    let (named, combined) = if covers_everything(&spanning_rects, 1, 65535, max) {
        (spanning, false)
    } else {
        (relevant.iter().map(|(d, _)| *d).collect(), true)
    };
    let mut permissions: Vec<usize> = if combined {
        Vec::new()
    } else {
        named
            .iter()
            .filter(|d| d.block.is_whole_space())
            .map(|d| d.permission)
            .collect()
    };
    permissions.sort_unstable();
    permissions.dedup();
    Some(Finding {
        opening,
        family,
        destinations: widest_labels(&named),
        combined,
        permissions,
    })
}

/// Everything the group leaves open to a whole address family. When all
/// traffic is open on a family, its TCP and UDP findings are implied and not
/// repeated.
pub fn find_openings(
    group: &SecurityGroup,
    check_ipv6: bool,
    prefix_lists: &KnownPrefixLists,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let families: &[Family] = if check_ipv6 {
        &[Family::Ipv4, Family::Ipv6]
    } else {
        &[Family::Ipv4]
    };
    for &family in families {
        let destinations = destinations_of(group, prefix_lists, family);
        if destinations.is_empty() {
            continue;
        }
        if let Some(finding) = find(group, &destinations, Opening::AllTraffic, family) {
            findings.push(finding);
            continue;
        }
        findings.extend(find(group, &destinations, Opening::AllTcpPorts, family));
        findings.extend(find(group, &destinations, Opening::AllUdpPorts, family));
    }
    findings
}

/// CIDR strings in the group that are not valid blocks, sorted so that the
/// order of rules does not change the annotation.
pub fn malformed_cidrs(group: &SecurityGroup) -> Vec<&str> {
    let mut out: Vec<&str> = group
        .egress
        .iter()
        .flat_map(|p| &p.cidrs)
        .filter(|c| c.block.is_none())
        .map(|c| c.text.as_str())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Why an exemption applies, or why it no longer does.
enum Exemption {
    None,
    Holds(String),
    Expired { through: NaiveDate, tag: String },
    InvalidDate(String),
}

fn exemption(group: &SecurityGroup, parameters: &Parameters, today: NaiveDate) -> Exemption {
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

/// Cuts `text` so that it holds at most 256 characters and at most 256
/// UTF-16 code units (a character outside the Basic Multilingual Plane, such
/// as an emoji, is two), ending in `…` (one of each) when cut; never splits
/// a character.
pub fn fit_annotation(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let fits =
        |chars: usize, units: usize| chars <= MAX_ANNOTATION_CHARS && units <= MAX_ANNOTATION_CHARS;
    if fits(text.chars().count(), text.encode_utf16().count()) {
        return Some(text.to_string());
    }
    let (mut chars, mut units) = (1, 1); // the `…`
    let mut cut = String::new();
    for c in text.chars() {
        if !fits(chars + 1, units + c.len_utf16()) {
            break;
        }
        chars += 1;
        units += c.len_utf16();
        cut.push(c);
    }
    cut.push('…');
    Some(cut)
}

fn join_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Judges one group.
pub fn judge(
    group: &SecurityGroup,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    today: NaiveDate,
) -> Verdict {
    if parameters.ignore_unused_groups && group.usage == Usage::Unused {
        return Verdict {
            compliance: Compliance::NotApplicable,
            annotation: fit_annotation(
                "Not attached to any network interface (IgnoreUnusedGroups is true)",
            ),
            findings: Vec::new(),
        };
    }
    let findings = find_openings(group, parameters.check_ipv6, prefix_lists);
    let malformed = malformed_cidrs(group);
    let malformed_note = match malformed.as_slice() {
        [] => String::new(),
        [one] => format!("ignored malformed CIDR {one:?}"),
        many => format!(
            "ignored malformed CIDRs {}",
            many.iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let with_note = |text: String| {
        let parts: Vec<&str> = [text.as_str(), malformed_note.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        fit_annotation(&parts.join("; "))
    };
    if findings.is_empty() {
        return Verdict {
            compliance: Compliance::Compliant,
            annotation: with_note(String::new()),
            findings,
        };
    }
    let open = join_findings(&findings);
    let (compliance, text) = match exemption(group, parameters, today) {
        Exemption::Holds(why) => (Compliance::Compliant, format!("Exempt: {why} ({open})")),
        Exemption::None => (Compliance::NonCompliant, open),
        Exemption::Expired { through, tag } => (
            Compliance::NonCompliant,
            format!("Exemption held through {through}, now expired: {open} ({tag})"),
        ),
        Exemption::InvalidDate(tag) => (
            Compliance::NonCompliant,
            format!(
                "{open}; exemption not applied, {tag} does not start with a valid YYYY-MM-DD date"
            ),
        ),
    };
    Verdict {
        compliance,
        annotation: with_note(text),
        findings,
    }
}

/// One evaluation in the exact shape of the PutEvaluations `Evaluations` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Evaluation {
    pub compliance_resource_type: std::borrow::Cow<'static, str>,
    pub compliance_resource_id: String,
    pub compliance_type: Compliance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    #[serde(serialize_with = "iso8601")]
    pub ordering_timestamp: DateTime<Utc>,
}

fn iso8601<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Evaluates one resource. `fallback_time` is the `OrderingTimestamp` when the
/// resource carries no capture time (the notification's time, or now); `now`
/// decides whether dated exemptions still hold.
pub fn evaluate(
    resource: &Resource,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    fallback_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Evaluation {
    let (compliance, annotation) = decide(resource, parameters, prefix_lists, now);
    Evaluation {
        compliance_resource_type: resource.resource_type.clone(),
        compliance_resource_id: resource.resource_id.clone(),
        compliance_type: compliance,
        annotation,
        ordering_timestamp: resource.captured_at.unwrap_or(fallback_time),
    }
}

fn decide(
    resource: &Resource,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    now: DateTime<Utc>,
) -> (Compliance, Option<String>) {
    let not_applicable = |why: String| (Compliance::NotApplicable, fit_annotation(&why));
    if resource.resource_type != SECURITY_GROUP_TYPE {
        return not_applicable(format!(
            "{} is not evaluated by this rule (only {SECURITY_GROUP_TYPE})",
            resource.resource_type
        ));
    }
    if let ItemStatus::Gone(status) = &resource.status {
        return not_applicable(format!("Configuration item status is {status}"));
    }
    if resource.event_left_scope {
        return not_applicable("The resource left the rule's scope".to_string());
    }
    match &resource.group {
        Some(group) => {
            let verdict = judge(group, parameters, prefix_lists, now.date_naive());
            (verdict.compliance, verdict.annotation)
        }
        None => not_applicable("The configuration item holds no configuration".to_string()),
    }
}
