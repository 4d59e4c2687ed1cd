//! SARIF 2.1.0, as GitHub code scanning takes it (SPEC_TEMPLATES §4): a
//! rule per kind of opening and one for UNDETERMINED, each with help text
//! and a `security-severity`; a NON_COMPLIANT group is an `error`, an
//! UNDETERMINED one a `warning`, an exempt one carries a suppression with
//! the exemption's reason, a template not evaluated is a `note`, and a
//! COMPLIANT group is no result.

use super::{CheckResult, Kind, Outcome};
use serde_json::{json, Value};

/// A result and the file it is in (a repository-relative path).
pub struct Located<'a> {
    pub uri: &'a str,
    pub result: &'a CheckResult,
}

/// One rule of the tool: what a result of that kind means and how to fix it.
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    pub short: &'static str,
    pub full: &'static str,
    /// GitHub's `security-severity`, 0.0 to 10.0.
    pub severity: &'static str,
}

/// How to fix any finding: the recommended action, in a template's terms.
pub const FIX: &str = "Restrict the group's egress to only the addresses, ranges and ports that require it: \
replace the rule that allows all traffic (or every TCP or UDP port) to 0.0.0.0/0 or ::/0 with rules for \
each legitimate need (a protocol and port, to a specific CIDR block, security group or prefix list). \
In CloudFormation, a group without SecurityGroupEgress keeps the default allow-all rule: list the rules \
it needs instead. If the group must stay open (an egress proxy, a NAT instance), exempt it with the \
exemption tag (sg-egress-exempt by default), whose value says why and may start with the last day it \
holds: `sg-egress-exempt = 2027-03-31 CHG-4411 outbound proxy`.";

const RULES: [Rule; 6] = [
    Rule {
        id: "SGE001",
        name: "AllTrafficToTheInternet",
        kind: Kind::AllTraffic,
        short: "A security group sends all traffic to the whole internet",
        full: "The group's egress lets instances send all traffic, on every protocol and port, to the whole IPv4 or IPv6 internet.",
        severity: "8.0",
    },
    Rule {
        id: "SGE002",
        name: "AllTcpPortsToTheInternet",
        kind: Kind::AllTcpPorts,
        short: "A security group opens every TCP port to the whole internet",
        full: "The group's egress lets instances reach every TCP port of the whole IPv4 or IPv6 internet (alone or through several rules together).",
        severity: "7.0",
    },
    Rule {
        id: "SGE003",
        name: "AllUdpPortsToTheInternet",
        kind: Kind::AllUdpPorts,
        short: "A security group opens every UDP port to the whole internet",
        full: "The group's egress lets instances reach every UDP port of the whole IPv4 or IPv6 internet (alone or through several rules together).",
        severity: "7.0",
    },
    Rule {
        id: "SGE004",
        name: "ImplicitDefaultEgress",
        kind: Kind::ImplicitDefault,
        short: "A security group keeps CloudFormation's implicit allow-all egress",
        full: "The group lists no egress rules, so CloudFormation (EC2) gives it the default rule that sends all traffic to 0.0.0.0/0.",
        severity: "8.0",
    },
    Rule {
        id: "SGE100",
        name: "EgressUndetermined",
        kind: Kind::Undetermined,
        short: "A security group is open to the whole internet in some deployments",
        full: "Whether the group is open depends on values known only at deployment (parameters without a value, conditions, imports, values known after apply); the message names them. Give the values (--template-parameter) or restrict the rules whatever they are.",
        severity: "5.0",
    },
    Rule {
        id: "SGE200",
        name: "TemplateNotEvaluated",
        kind: Kind::NotEvaluated,
        short: "A template is not final and its groups were not evaluated",
        full: "The template uses a Transform (SAM, AWS::LanguageExtensions or a macro): its groups are known only after the transform runs. Check the processed template instead.",
        severity: "1.0",
    },
];

/// The rule of a kind of result, and its index in the tool's rules.
pub fn rule_of(kind: Kind) -> Option<(usize, &'static Rule)> {
    RULES.iter().enumerate().find(|(_, r)| r.kind == kind)
}

/// A fingerprint that stays when lines move: FNV-1a of the file, the
/// resource and the rule.
fn fingerprint(uri: &str, resource: &str, rule: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in uri
        .bytes()
        .chain([0])
        .chain(resource.bytes())
        .chain([0])
        .chain(rule.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn physical(uri: &str, line: u32) -> Value {
    json!({
        "artifactLocation": { "uri": uri },
        "region": { "startLine": line.max(1) },
    })
}

/// The SARIF log of a check.
pub fn to_sarif(results: &[Located], version: &str) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.short },
                "fullDescription": { "text": r.full },
                "help": { "text": format!("{} {FIX}", r.full), "markdown": format!("{}\n\n{FIX}", r.full) },
                "defaultConfiguration": { "level": match r.kind {
                    Kind::Undetermined => "warning",
                    Kind::NotEvaluated => "note",
                    _ => "error",
                } },
                "properties": {
                    "tags": ["security", "aws", "ec2", "security-group"],
                    "precision": "very-high",
                    "security-severity": r.severity,
                },
            })
        })
        .collect();
    let results: Vec<Value> = results.iter().filter_map(|l| sarif_result(l)).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sg-egress",
                "semanticVersion": version,
                "version": version,
                "rules": rules,
            } },
            "results": results,
        }],
    })
}

fn sarif_result(located: &Located) -> Option<Value> {
    let result = located.result;
    let exempt = result.outcome == Outcome::Compliant && result.exemption.is_some();
    let level = match result.outcome {
        Outcome::NonCompliant => "error",
        Outcome::Undetermined => "warning",
        Outcome::NotEvaluated => "note",
        Outcome::Compliant if exempt => "error",
        Outcome::Compliant => return None,
    };
    let (index, rule) = rule_of(result.kind)?;
    let text = result
        .annotation
        .clone()
        .unwrap_or_else(|| rule.short.to_string());
    let mut logical = json!({ "name": result.resource, "kind": "resource" });
    if let Some(path) = &result.construct_path {
        logical["fullyQualifiedName"] = json!(path);
    }
    let mut out = json!({
        "ruleId": rule.id,
        "ruleIndex": index,
        "level": level,
        "message": { "text": format!("{}: {text}", result.resource) },
        "locations": [{
            "physicalLocation": physical(located.uri, result.line),
            "logicalLocations": [logical],
        }],
        "partialFingerprints": {
            "sgEgressResource/v1": fingerprint(located.uri, &result.resource, rule.id),
        },
    });
    if !result.related_lines.is_empty() {
        out["relatedLocations"] = Value::Array(
            result
                .related_lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    json!({
                        "id": i + 1,
                        "physicalLocation": physical(located.uri, *line),
                        "message": { "text": "opens the group together with the first rule" },
                    })
                })
                .collect(),
        );
    }
    if exempt {
        out["suppressions"] = json!([{
            "kind": "inSource",
            "justification": result.exemption.clone().unwrap_or_default(),
        }]);
    }
    Some(out)
}
