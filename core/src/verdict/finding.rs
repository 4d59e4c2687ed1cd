//! What a group leaves open: for each address family, whether all traffic,
//! all TCP ports or all UDP ports reach the whole space, and through which
//! destinations (SPEC §2).

use crate::cidr::{Cidr, Family};
use crate::coverage::{covers_everything, Rect};
use crate::model::{EgressPermission, KnownPrefixLists, Protocol, SecurityGroup};
use std::borrow::Cow;
use std::fmt;

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
