//! Surgical remediation: which egress rules to revoke so that a
//! NON_COMPLIANT group becomes compliant, decided by the same evaluator as the
//! rule (no second implementation that could drift).
//!
//! A plan revokes exactly the rules that are open to a whole address family
//! on their own (all traffic, all TCP or all UDP ports). When no rule is open
//! by itself and narrower rules combine to open the group, it revokes one rule
//! if one alone closes the group (the widest such rule). It refuses, changing
//! nothing, when that is not so: when revoking the rules open by themselves
//! would still leave narrower rules combined open, or when no single
//! revocation closes the group. `KeepEgress` (`tcp:443,tcp:80`) adds back,
//! to the same destination, the narrower access each revoked rule allowed.

use crate::cidr::Cidr;
use crate::model::{EgressPermission, Protocol, SecurityGroup};
use crate::params::Parameters;
use crate::verdict::{find_openings, judge, Compliance, Finding, KnownPrefixLists};
use chrono::NaiveDate;
use serde::Serialize;

/// One security-group rule as `DescribeSecurityGroupRules` returns it: one
/// protocol and port range to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupRule {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub security_group_rule_id: String,
    pub ip_protocol: String,
    pub from_port: i64,
    pub to_port: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ipv4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl TryFrom<&SecurityGroupRule> for EgressPermission {
    type Error = String;

    /// The one conversion of a rule as `DescribeSecurityGroupRules` gives it
    /// into the model.
    fn try_from(rule: &SecurityGroupRule) -> Result<Self, String> {
        let id = &rule.security_group_rule_id;
        let protocol: Protocol = rule.ip_protocol.parse().map_err(|e| format!("{id}: {e}"))?;
        let mut permission =
            EgressPermission::new(protocol, Some(rule.from_port), Some(rule.to_port))
                .map_err(|e| format!("{id}: {e}"))?;
        for cidr in rule.cidr_ipv4.iter().chain(&rule.cidr_ipv6) {
            permission.add_cidr(cidr);
        }
        permission
            .prefix_list_ids
            .extend(rule.prefix_list_id.clone());
        permission
            .referenced_group_ids
            .extend(rule.referenced_group_id.clone());
        Ok(permission)
    }
}

impl SecurityGroupRule {
    fn destination(&self) -> String {
        self.cidr_ipv4
            .clone()
            .or_else(|| self.cidr_ipv6.clone())
            .or_else(|| self.prefix_list_id.clone())
            .or_else(|| self.referenced_group_id.clone())
            .unwrap_or_default()
    }

    /// Orders rules widest first: the shorter prefix, then more ports, then the id.
    fn breadth_key(&self) -> (u8, std::cmp::Reverse<i64>, String) {
        let prefix = Cidr::parse(&self.destination()).map_or(u8::MAX, |c| c.prefix);
        let ports = if self.ip_protocol == "-1" {
            65536
        } else {
            self.to_port - self.from_port + 1
        };
        (
            prefix,
            std::cmp::Reverse(ports),
            self.security_group_rule_id.clone(),
        )
    }

    fn describe(&self) -> String {
        let ports = match self.ip_protocol.as_str() {
            "-1" => "all traffic".to_string(),
            p => format!("{p} {}-{}", self.from_port, self.to_port),
        };
        format!(
            "{} ({ports} to {})",
            self.security_group_rule_id,
            self.destination()
        )
    }
}

/// A group with its egress as separate rules, each beside its permission
/// in the model.
#[derive(Debug, Clone)]
pub struct GroupRules {
    /// Id, VPC, tags and usage; its `egress` is derived from `rules`.
    pub group: SecurityGroup,
    pub rules: Vec<(SecurityGroupRule, EgressPermission)>,
}

impl GroupRules {
    /// `group` gives id, VPC, tags and usage; its egress becomes `rules`.
    pub fn new(mut group: SecurityGroup, rules: Vec<SecurityGroupRule>) -> Result<Self, String> {
        let rules = rules
            .into_iter()
            .map(|rule| EgressPermission::try_from(&rule).map(|p| (rule, p)))
            .collect::<Result<Vec<_>, _>>()?;
        group.egress = rules.iter().map(|(_, p)| p.clone()).collect();
        Ok(GroupRules { group, rules })
    }

    /// The group with only the rules `keep` selects (by index), and `added`.
    fn with_only(&self, keep: impl Fn(usize) -> bool, added: &[EgressPermission]) -> SecurityGroup {
        let mut group = self.group.clone();
        group.egress = self
            .rules
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, (_, p))| p.clone())
            .chain(added.iter().cloned())
            .collect();
        group
    }

    fn rule(&self, index: usize) -> &SecurityGroupRule {
        &self.rules[index].0
    }
}

/// A narrower rule to keep: a protocol and a port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepSpec {
    pub protocol: Protocol,
    pub from_port: u16,
    pub to_port: u16,
}

/// Parses `KeepEgress`: comma-separated `tcp:443`, `udp:53`, `tcp:8000-8100`.
pub fn parse_keep_egress(text: &str) -> Result<Vec<KeepSpec>, String> {
    let mut specs = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || {
            format!("KeepEgress: {part:?} is not PROTOCOL:PORT or PROTOCOL:FROM-TO with protocol tcp or udp")
        };
        let (protocol, ports) = part.split_once(':').ok_or_else(bad)?;
        let protocol = match protocol.trim().to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => return Err(bad()),
        };
        let (from, to) = ports.split_once('-').unwrap_or((ports, ports));
        let from: u16 = from.trim().parse().map_err(|_| bad())?;
        let to: u16 = to.trim().parse().map_err(|_| bad())?;
        if from > to {
            return Err(bad());
        }
        specs.push(KeepSpec {
            protocol,
            from_port: from,
            to_port: to,
        });
    }
    Ok(specs)
}

/// What to do to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The group is not NON_COMPLIANT (compliant, exempt, or not applicable).
    NothingToDo { reason: String },
    /// Add `add` (KeepEgress), then revoke `revoke`.
    Revoke {
        revoke: Vec<SecurityGroupRule>,
        add: Vec<SecurityGroupRule>,
        finding: String,
        /// Why a narrower rule was chosen, when no rule was open by itself.
        note: Option<String>,
    },
    /// No safe surgical change exists; nothing is changed.
    Refuse { reason: String },
}

/// What a plan is judged with.
struct Judge<'a> {
    parameters: &'a Parameters,
    prefix_lists: &'a KnownPrefixLists,
}

impl Judge<'_> {
    /// What `group` leaves open (empty when it is closed).
    fn openings(&self, group: &SecurityGroup) -> Vec<Finding> {
        find_openings(group, self.parameters.check_ipv6, self.prefix_lists)
    }
}

/// Decides what to revoke, in named steps: is the group open at all; which
/// rules to revoke; which narrower rules to keep; and that what is kept does
/// not reopen it.
pub fn plan(
    group: &GroupRules,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    today: NaiveDate,
    keep: &[KeepSpec],
) -> Plan {
    let verdict = judge(&group.group, parameters, prefix_lists, today);
    if verdict.compliance != Compliance::NonCompliant {
        return Plan::NothingToDo {
            reason: format!(
                "{} is {}{}",
                group.group.group_id,
                verdict.compliance,
                verdict
                    .annotation
                    .map(|a| format!(": {a}"))
                    .unwrap_or_default()
            ),
        };
    }
    let judge = Judge {
        parameters,
        prefix_lists,
    };
    let (revoke, note) = match rules_to_revoke(group, &judge) {
        Ok(choice) => choice,
        Err(reason) => return Plan::Refuse { reason },
    };
    let add = rules_to_keep(group, &revoke, keep);
    let added = match add
        .iter()
        .map(EgressPermission::try_from)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(added) => added,
        Err(reason) => return Plan::Refuse { reason },
    };
    let reopened = judge.openings(&group.with_only(|i| !revoke.contains(&i), &added));
    if !reopened.is_empty() {
        return Plan::Refuse {
            reason: format!(
                "KeepEgress would keep {} open ({}), so nothing was revoked",
                group.group.group_id,
                describe_findings(&reopened)
            ),
        };
    }
    Plan::Revoke {
        revoke: revoke.iter().map(|&i| group.rule(i).clone()).collect(),
        add,
        finding: verdict.annotation.unwrap_or_default(),
        note,
    }
}

fn describe_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The rules to revoke (indexes), and why when they are not simply the rules
/// open by themselves; or why nothing may be revoked.
fn rules_to_revoke(
    group: &GroupRules,
    judge: &Judge,
) -> Result<(Vec<usize>, Option<String>), String> {
    let open_alone: Vec<usize> = (0..group.rules.len())
        .filter(|&i| !judge.openings(&group.with_only(|j| j == i, &[])).is_empty())
        .collect();
    let (to_revoke, note) = if open_alone.is_empty() {
        narrower_rule_to_revoke(group, judge)
    } else {
        (open_alone.clone(), None)
    };
    let still_open = judge.openings(&group.with_only(|i| !to_revoke.contains(&i), &[]));
    if still_open.is_empty() {
        return Ok((to_revoke, note));
    }
    let still = describe_findings(&still_open);
    Err(if open_alone.is_empty() {
        format!(
            "{} is open only through a combination of narrower rules ({still}) and no single revocation closes it, so nothing was revoked: edit the group by hand",
            group.group.group_id
        )
    } else {
        let named: Vec<String> = open_alone
            .iter()
            .map(|&i| group.rule(i).describe())
            .collect();
        format!(
            "revoking the rules open by themselves ({}) would still leave {} open ({still}) through narrower rules combined, so nothing was revoked: edit the group by hand",
            named.join(", "),
            group.group.group_id
        )
    })
}

/// Open only through narrower rules combined: the one rule whose revocation
/// alone closes the group, the widest of those that do (none when none does).
fn narrower_rule_to_revoke(group: &GroupRules, judge: &Judge) -> (Vec<usize>, Option<String>) {
    let closing: Vec<usize> = (0..group.rules.len())
        .filter(|&i| judge.openings(&group.with_only(|j| j != i, &[])).is_empty())
        .collect();
    let Some(&chosen) = closing.iter().min_by_key(|&&i| group.rule(i).breadth_key()) else {
        return (Vec::new(), None);
    };
    let named: Vec<&str> = closing
        .iter()
        .map(|&i| group.rule(i).security_group_rule_id.as_str())
        .collect();
    let note = format!(
        "open only through narrower rules combined; revoking {} alone closes it (the widest of the rules that do: {})",
        group.rule(chosen).describe(),
        named.join(", ")
    );
    (vec![chosen], Some(note))
}

/// The KeepEgress rules to add back: for each revoked rule, each narrower
/// access it allowed, to the same destination, unless the group already has it.
fn rules_to_keep(
    group: &GroupRules,
    revoke: &[usize],
    keep: &[KeepSpec],
) -> Vec<SecurityGroupRule> {
    let mut add: Vec<SecurityGroupRule> = Vec::new();
    for &index in revoke {
        let (rule, permission) = &group.rules[index];
        for spec in keep {
            let allowed = permission
                .ports_for(spec.protocol)
                .is_some_and(|(from, to)| from <= spec.from_port && spec.to_port <= to);
            let candidate = SecurityGroupRule {
                security_group_rule_id: String::new(),
                ip_protocol: spec.protocol.to_string(),
                from_port: i64::from(spec.from_port),
                to_port: i64::from(spec.to_port),
                cidr_ipv4: rule.cidr_ipv4.clone(),
                cidr_ipv6: rule.cidr_ipv6.clone(),
                prefix_list_id: rule.prefix_list_id.clone(),
                referenced_group_id: None,
                description: Some(format!(
                    "kept by sg-egress remediation of {}",
                    rule.security_group_rule_id
                )),
            };
            let exists = group.rules.iter().map(|(r, _)| r).chain(&add).any(|r| {
                r.ip_protocol == candidate.ip_protocol
                    && r.from_port == candidate.from_port
                    && r.to_port == candidate.to_port
                    && r.destination() == candidate.destination()
            });
            if allowed && !exists {
                add.push(candidate);
            }
        }
    }
    add
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Usage;
    use std::collections::BTreeMap;

    fn rule(
        id: &str,
        protocol: &str,
        from: i64,
        to: i64,
        v4: Option<&str>,
        v6: Option<&str>,
    ) -> SecurityGroupRule {
        SecurityGroupRule {
            security_group_rule_id: id.to_string(),
            ip_protocol: protocol.to_string(),
            from_port: from,
            to_port: to,
            cidr_ipv4: v4.map(str::to_string),
            cidr_ipv6: v6.map(str::to_string),
            prefix_list_id: None,
            referenced_group_id: None,
            description: None,
        }
    }

    fn group(rules: Vec<SecurityGroupRule>) -> GroupRules {
        let group = SecurityGroup {
            group_id: "sg-12345678".to_string(),
            vpc_id: None,
            tags: BTreeMap::new(),
            usage: Usage::Unknown,
            egress: Vec::new(),
        };
        GroupRules::new(group, rules).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn plan_of(rules: Vec<SecurityGroupRule>, keep: &str) -> Plan {
        plan(
            &group(rules),
            &Parameters::default(),
            &KnownPrefixLists::new(),
            today(),
            &parse_keep_egress(keep).unwrap(),
        )
    }

    #[test]
    fn revokes_only_the_rules_open_by_themselves() {
        let rules = vec![
            rule("sgr-a", "-1", -1, -1, Some("0.0.0.0/0"), None),
            rule("sgr-b", "tcp", 443, 443, Some("0.0.0.0/0"), None),
            rule("sgr-c", "-1", -1, -1, None, Some("::/0")),
            rule("sgr-d", "-1", -1, -1, Some("10.0.0.0/8"), None),
        ];
        let Plan::Revoke {
            revoke,
            add,
            finding,
            note,
        } = plan_of(rules, "")
        else {
            panic!()
        };
        assert_eq!(note, None);
        let ids: Vec<&str> = revoke
            .iter()
            .map(|r| r.security_group_rule_id.as_str())
            .collect();
        assert_eq!(ids, ["sgr-a", "sgr-c"]);
        assert!(add.is_empty());
        assert_eq!(finding, "all traffic to 0.0.0.0/0; all traffic to ::/0");
    }

    #[test]
    fn revokes_the_widest_narrower_rule_when_one_alone_closes_the_group() {
        let rules = vec![
            rule("sgr-a", "tcp", 40001, 65535, Some("0.0.0.0/0"), None),
            rule("sgr-b", "tcp", 0, 40000, Some("0.0.0.0/0"), None),
            rule("sgr-c", "tcp", 443, 443, Some("10.0.0.0/8"), None),
        ];
        let Plan::Revoke { revoke, note, .. } = plan_of(rules, "") else {
            panic!()
        };
        let ids: Vec<&str> = revoke
            .iter()
            .map(|r| r.security_group_rule_id.as_str())
            .collect();
        assert_eq!(ids, ["sgr-b"]);
        let note = note.unwrap();
        assert!(
            note.contains("the widest of the rules that do: sgr-a, sgr-b"),
            "{note}"
        );
        let halves = vec![
            rule("sgr-y", "-1", -1, -1, Some("128.0.0.0/1"), None),
            rule("sgr-x", "-1", -1, -1, Some("0.0.0.0/1"), None),
        ];
        let Plan::Revoke { revoke, .. } = plan_of(halves, "") else {
            panic!()
        };
        assert_eq!(
            revoke[0].security_group_rule_id, "sgr-x",
            "equal breadth: the lower id"
        );
    }

    #[test]
    fn refuses_a_combination_of_narrower_rules() {
        // Two independent covers of every TCP port: no single revocation closes it.
        let rules = vec![
            rule("sgr-a", "tcp", 0, 40000, Some("0.0.0.0/0"), None),
            rule("sgr-b", "tcp", 30000, 65535, Some("0.0.0.0/0"), None),
            rule("sgr-c", "tcp", 0, 20000, Some("0.0.0.0/0"), None),
            rule("sgr-d", "tcp", 20001, 65535, Some("0.0.0.0/0"), None),
        ];
        let Plan::Refuse { reason } = plan_of(rules, "") else {
            panic!()
        };
        assert!(
            reason.contains("no single revocation closes it"),
            "{reason}"
        );
        let rules = vec![
            rule("sgr-x", "-1", -1, -1, Some("0.0.0.0/0"), None),
            rule("sgr-a", "tcp", 0, 32767, Some("0.0.0.0/0"), None),
            rule("sgr-b", "tcp", 32768, 65535, Some("0.0.0.0/0"), None),
        ];
        let Plan::Refuse { reason } = plan_of(rules, "") else {
            panic!()
        };
        assert!(
            reason.contains("sgr-x (all traffic to 0.0.0.0/0)"),
            "{reason}"
        );
        assert!(reason.contains("would still leave"), "{reason}");
    }

    #[test]
    fn keep_egress_adds_back_what_the_revoked_rule_allowed() {
        let rules = vec![
            rule("sgr-a", "-1", -1, -1, Some("0.0.0.0/0"), None),
            rule("sgr-b", "tcp", 0, 65535, None, Some("::/0")),
            rule("sgr-c", "tcp", 80, 80, Some("0.0.0.0/0"), None),
        ];
        let Plan::Revoke { revoke, add, .. } = plan_of(rules, "tcp:443, tcp:80, udp:53") else {
            panic!()
        };
        assert_eq!(revoke.len(), 2);
        let added: Vec<(String, i64, String)> = add
            .iter()
            .map(|r| (r.ip_protocol.clone(), r.from_port, r.destination()))
            .collect();
        assert_eq!(
            added,
            [
                ("tcp".to_string(), 443, "0.0.0.0/0".to_string()),
                ("udp".to_string(), 53, "0.0.0.0/0".to_string()),
                ("tcp".to_string(), 443, "::/0".to_string()),
                ("tcp".to_string(), 80, "::/0".to_string()),
            ],
            "tcp 80 to 0.0.0.0/0 exists already; udp is not added where only tcp was allowed"
        );
    }

    #[test]
    fn keep_egress_that_would_reopen_is_refused() {
        let rules = vec![rule("sgr-a", "-1", -1, -1, Some("0.0.0.0/0"), None)];
        let Plan::Refuse { reason } = plan_of(rules, "tcp:0-65535") else {
            panic!()
        };
        assert!(reason.contains("KeepEgress would keep"), "{reason}");
    }

    #[test]
    fn compliant_and_exempt_groups_are_left_alone() {
        let Plan::NothingToDo { reason } = plan_of(
            vec![rule("sgr-a", "tcp", 443, 443, Some("0.0.0.0/0"), None)],
            "",
        ) else {
            panic!()
        };
        assert_eq!(reason, "sg-12345678 is COMPLIANT");
        let mut g = group(vec![rule("sgr-a", "-1", -1, -1, Some("0.0.0.0/0"), None)]);
        g.group
            .tags
            .insert("sg-egress-exempt".into(), "proxy".into());
        let Plan::NothingToDo { reason } = plan(
            &g,
            &Parameters::default(),
            &KnownPrefixLists::new(),
            today(),
            &[],
        ) else {
            panic!()
        };
        assert!(reason.contains("COMPLIANT: Exempt: tag"), "{reason}");
    }

    #[test]
    fn keep_egress_syntax() {
        assert_eq!(parse_keep_egress("").unwrap(), []);
        assert_eq!(
            parse_keep_egress("TCP:8000-8100").unwrap(),
            [KeepSpec {
                protocol: Protocol::Tcp,
                from_port: 8000,
                to_port: 8100
            }]
        );
        for bad in ["tcp", "icmp:1", "tcp:http", "tcp:90-80", "tcp:70000"] {
            assert!(parse_keep_egress(bad).is_err(), "{bad}");
        }
    }
}
