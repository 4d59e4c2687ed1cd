//! SPEC_TEMPLATES §3 as a property: random CloudFormation templates with at
//! most three parameters not known until deployment, each over a small
//! domain. For every assignment of those parameters, the group the template
//! deploys is built here, independently of the template reader, and judged
//! by the rule's own `judge`. The outcome `check` reports without the values
//! must agree with all of them: NON_COMPLIANT only when every assignment is
//! non-compliant, COMPLIANT only when every assignment is compliant. With
//! every value given, `check` must give exactly the rule's verdict.

use chrono::NaiveDate;
use proptest::prelude::*;
use sg_egress_core::model::{EgressPermission, KnownPrefixLists, Protocol, SecurityGroup, Usage};
use sg_egress_core::params::Parameters;
use sg_egress_core::templates::cloudformation::check_template;
use sg_egress_core::templates::{read_document, CheckOptions, CheckResult, Document, Outcome};
use sg_egress_core::verdict::{judge, Compliance};
use std::collections::{BTreeMap, BTreeSet};

/// The template parameters a case may use, each with its small domain.
const PARAMETERS: [(&str, &[&str]); 7] = [
    ("Cidr4", &["0.0.0.0/0", "10.0.0.0/8", "0.0.0.0/1"]),
    ("Cidr6", &["::/0", "fd00::/8"]),
    ("Proto", &["-1", "tcp", "udp", "6", "icmp"]),
    ("Port", &["0", "1", "443", "65535", "-1"]),
    ("FlagA", &["yes", "no"]),
    ("FlagB", &["yes", "no"]),
    (
        "Exempt",
        &[
            "2099-12-31 egress proxy",
            "2000-01-01 expired",
            "not a date",
        ],
    ),
];
const CIDR4: usize = 0;
const CIDR6: usize = 1;
const PROTO: usize = 2;
const PORT: usize = 3;
const FLAG_A: usize = 4;
const FLAG_B: usize = 5;
const EXEMPT: usize = 6;

/// A value written literally or as `!Ref` to a parameter.
#[derive(Debug, Clone)]
enum Val {
    Lit(&'static str),
    Ref(usize),
}

#[derive(Debug, Clone)]
struct Rule {
    protocol: Val,
    from: Option<Val>,
    to: Option<Val>,
    /// `CidrIpv6` rather than `CidrIp`.
    v6: bool,
    /// No destination at all: no rule.
    cidr: Option<Val>,
}

#[derive(Debug, Clone)]
enum Item {
    Rule(Rule),
    /// `!If [C, rule, rule or AWS::NoValue]` on condition FlagA or FlagB.
    If(usize, Rule, Option<Rule>),
}

#[derive(Debug, Clone)]
enum Egress {
    Absent,
    Empty,
    NoValue,
    List(Vec<Item>),
    /// `!If [C, [items], !Ref AWS::NoValue]`.
    IfList(usize, Vec<Item>),
}

#[derive(Debug, Clone)]
struct Case {
    egress: Egress,
    standalone: Vec<Rule>,
    exempt_tag: Option<Val>,
}

fn val(parameter: usize, literals: &'static [&'static str]) -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => proptest::sample::select(literals).prop_map(Val::Lit),
        2 => Just(Val::Ref(parameter)),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        val(PROTO, &["-1", "tcp", "udp", "17", "icmp"]),
        proptest::option::weighted(0.8, val(PORT, &["0", "1", "443", "65535", "-1"])),
        proptest::option::weighted(0.8, val(PORT, &["0", "443", "65535", "-1"])),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(protocol, from, to, v6, pick)| {
            let cidr = match (pick % 8, v6) {
                (0, _) => None,
                (1..=3, false) => Some(Val::Ref(CIDR4)),
                (1..=3, true) => Some(Val::Ref(CIDR6)),
                (n, false) => Some(Val::Lit(
                    ["0.0.0.0/0", "10.0.0.0/8", "0.0.0.0/1", "0.0.0.0/0"][usize::from(n) % 4],
                )),
                (n, true) => Some(Val::Lit(
                    ["::/0", "fd00::/8", "::/0", "2001:db8::/32"][usize::from(n) % 4],
                )),
            };
            Rule {
                protocol,
                from,
                to,
                v6,
                cidr,
            }
        })
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        3 => rule().prop_map(Item::Rule),
        1 => (prop_oneof![Just(FLAG_A), Just(FLAG_B)], rule(), proptest::option::of(rule()))
            .prop_map(|(c, a, b)| Item::If(c, a, b)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let egress = prop_oneof![
        1 => Just(Egress::Absent),
        1 => Just(Egress::Empty),
        1 => Just(Egress::NoValue),
        4 => proptest::collection::vec(item(), 1..4).prop_map(Egress::List),
        1 => (prop_oneof![Just(FLAG_A), Just(FLAG_B)], proptest::collection::vec(item(), 1..3))
            .prop_map(|(c, items)| Egress::IfList(c, items)),
    ];
    (
        egress,
        proptest::collection::vec(rule(), 0..2),
        proptest::option::weighted(
            0.3,
            val(EXEMPT, &["2099-12-31 egress proxy", "2000-01-01 expired"]),
        ),
    )
        .prop_map(|(egress, standalone, exempt_tag)| Case {
            egress,
            standalone,
            exempt_tag,
        })
}

impl Case {
    /// The parameters the case refers to (conditions refer to their flag).
    fn parameters(&self) -> BTreeSet<usize> {
        let mut used = BTreeSet::new();
        let mut value = |v: &Option<Val>| {
            if let Some(Val::Ref(p)) = v {
                used.insert(*p);
            }
        };
        let mut rules: Vec<&Rule> = self.standalone.iter().collect();
        let mut flags = Vec::new();
        let items = match &self.egress {
            Egress::List(items) => items.as_slice(),
            Egress::IfList(c, items) => {
                flags.push(*c);
                items.as_slice()
            }
            _ => &[],
        };
        for item in items {
            match item {
                Item::Rule(r) => rules.push(r),
                Item::If(c, a, b) => {
                    flags.push(*c);
                    rules.push(a);
                    rules.extend(b.iter());
                }
            }
        }
        for r in rules {
            value(&Some(r.protocol.clone()));
            value(&r.from);
            value(&r.to);
            value(&r.cidr);
        }
        value(&self.exempt_tag);
        used.extend(flags);
        used
    }

    fn template(&self) -> String {
        let mut t = String::from("AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n");
        for p in self.parameters() {
            t.push_str(&format!("  {}:\n    Type: String\n", PARAMETERS[p].0));
        }
        if t.ends_with("Parameters:\n") {
            t.push_str("  Unused:\n    Type: String\n    Default: x\n");
        }
        let parameters = self.parameters();
        if parameters.contains(&FLAG_A) || parameters.contains(&FLAG_B) {
            t.push_str("Conditions:\n");
        }
        if parameters.contains(&FLAG_A) {
            t.push_str("  FlagA: !Equals [!Ref FlagA, 'yes']\n");
        }
        if parameters.contains(&FLAG_B) {
            // Unquoted `yes` is the string "yes" to CloudFormation.
            t.push_str("  FlagB: !Equals [yes, !Ref FlagB]\n");
        }
        t.push_str("Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: g\n");
        match &self.egress {
            Egress::Absent => {}
            Egress::Empty => t.push_str("      SecurityGroupEgress: []\n"),
            Egress::NoValue => t.push_str("      SecurityGroupEgress: !Ref AWS::NoValue\n"),
            Egress::List(items) => {
                t.push_str("      SecurityGroupEgress:\n");
                for item in items {
                    t.push_str(&item_yaml(item, 8));
                }
            }
            Egress::IfList(c, items) => {
                t.push_str(&format!(
                    "      SecurityGroupEgress: !If\n        - {}\n        -\n",
                    PARAMETERS[*c].0
                ));
                for item in items {
                    t.push_str(&item_yaml(item, 10));
                }
                t.push_str("        - !Ref AWS::NoValue\n");
            }
        }
        if let Some(tag) = &self.exempt_tag {
            t.push_str(&format!(
                "      Tags:\n        - Key: sg-egress-exempt\n          Value: {}\n",
                val_yaml(tag)
            ));
        }
        for (i, r) in self.standalone.iter().enumerate() {
            t.push_str(&format!(
                "  Standalone{i}:\n    Type: AWS::EC2::SecurityGroupEgress\n    Properties:\n      GroupId: {}\n{}",
                if i == 0 { "!Ref G" } else { "!GetAtt G.GroupId" },
                rule_fields(r, 6)
            ));
        }
        t
    }

    /// Every group the template can deploy under one assignment: one, or
    /// two when AWS does not document whether the default egress remains.
    fn deployed(&self, values: &BTreeMap<usize, &str>) -> Vec<SecurityGroup> {
        let resolve = |v: &Val| -> String {
            match v {
                Val::Lit(text) => (*text).to_string(),
                Val::Ref(p) => values[p].to_string(),
            }
        };
        let flag = |c: usize| values[&c] == "yes";
        let permission = |r: &Rule| -> Option<EgressPermission> {
            let cidr = resolve(r.cidr.as_ref()?);
            let protocol: Protocol = resolve(&r.protocol)
                .parse()
                .expect("the domain's protocols parse");
            let port = |v: &Option<Val>| {
                v.as_ref()
                    .map(|v| resolve(v).parse::<i64>().expect("a port"))
            };
            let mut permission = EgressPermission::new(protocol, port(&r.from), port(&r.to))
                .expect("ports in range");
            permission.add_cidr(&cidr);
            Some(permission)
        };
        let items: Option<Vec<&Rule>> = match &self.egress {
            Egress::Absent | Egress::Empty | Egress::NoValue => None,
            Egress::IfList(c, _) if !flag(*c) => None,
            Egress::List(items) | Egress::IfList(_, items) => Some(
                items
                    .iter()
                    .filter_map(|item| match item {
                        Item::Rule(r) => Some(r),
                        Item::If(c, a, b) => {
                            if flag(*c) {
                                Some(a)
                            } else {
                                b.as_ref()
                            }
                        }
                    })
                    .collect(),
            ),
        };
        // A list that resolves to no item is `[]`: the default egress.
        let items = items.filter(|items| !items.is_empty());
        let standalone: Vec<EgressPermission> =
            self.standalone.iter().filter_map(permission).collect();
        let mut default = EgressPermission::new(Protocol::All, None, None).expect("no ports");
        default.add_cidr("0.0.0.0/0");
        let mut tags = BTreeMap::new();
        if let Some(tag) = &self.exempt_tag {
            tags.insert("sg-egress-exempt".to_string(), resolve(tag));
        }
        let group = |egress: Vec<EgressPermission>| SecurityGroup {
            group_id: "G".to_string(),
            vpc_id: None,
            tags: tags.clone(),
            usage: Usage::Unknown,
            egress,
        };
        match items {
            Some(items) => {
                let mut egress: Vec<EgressPermission> =
                    items.into_iter().filter_map(permission).collect();
                egress.extend(standalone);
                vec![group(egress)]
            }
            None if self.standalone.is_empty() => vec![group(vec![default])],
            None => {
                let mut with_default = vec![default];
                with_default.extend(standalone.iter().cloned());
                vec![group(with_default), group(standalone)]
            }
        }
    }
}

fn val_yaml(v: &Val) -> String {
    match v {
        Val::Lit(text) => format!("'{text}'"),
        Val::Ref(p) => format!("!Ref {}", PARAMETERS[*p].0),
    }
}

fn rule_fields(r: &Rule, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}IpProtocol: {}\n", val_yaml(&r.protocol));
    if let Some(from) = &r.from {
        out.push_str(&format!("{pad}FromPort: {}\n", val_yaml(from)));
    }
    if let Some(to) = &r.to {
        out.push_str(&format!("{pad}ToPort: {}\n", val_yaml(to)));
    }
    if let Some(cidr) = &r.cidr {
        let name = if r.v6 { "CidrIpv6" } else { "CidrIp" };
        out.push_str(&format!("{pad}{name}: {}\n", val_yaml(cidr)));
    }
    out
}

/// A rule as a list item (`- IpProtocol: …`) at `indent`.
fn rule_item(r: &Rule, indent: usize) -> String {
    let fields = rule_fields(r, indent + 2);
    format!("{}- {}", " ".repeat(indent), &fields[indent + 2..])
}

fn item_yaml(item: &Item, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match item {
        Item::Rule(r) => rule_item(r, indent),
        Item::If(c, a, b) => {
            let mut out = format!("{pad}- !If\n{pad}  - {}\n", PARAMETERS[*c].0);
            out.push_str(&rule_item(a, indent + 2));
            match b {
                Some(b) => out.push_str(&rule_item(b, indent + 2)),
                None => out.push_str(&format!("{pad}  - !Ref AWS::NoValue\n")),
            }
            out
        }
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("a date")
}

fn check(template: &str, given: &BTreeMap<usize, &str>) -> CheckResult {
    let Document::Template(root) = read_document(template.as_bytes()).expect("the template reads")
    else {
        panic!("not read as a template:\n{template}");
    };
    let options = CheckOptions {
        parameters: Parameters::default(),
        template_parameters: given
            .iter()
            .map(|(p, v)| (PARAMETERS[*p].0.to_string(), (*v).to_string()))
            .collect(),
        today: today(),
        assume_defaults: true,
        prefix_lists: Default::default(),
        known_groups: Default::default(),
    };
    let checked = check_template(&root, &options).expect("the template checks");
    checked
        .results
        .into_iter()
        .find(|r| r.resource == "G")
        .unwrap_or_else(|| panic!("no result for G:\n{template}"))
}

/// Every assignment of the parameters a case uses.
fn assignments(parameters: &BTreeSet<usize>) -> Vec<BTreeMap<usize, &'static str>> {
    let mut out = vec![BTreeMap::new()];
    for &p in parameters {
        out = out
            .into_iter()
            .flat_map(|a| {
                PARAMETERS[p].1.iter().map(move |v| {
                    let mut next = a.clone();
                    next.insert(p, *v);
                    next
                })
            })
            .collect();
    }
    out
}

fn open(group: &SecurityGroup) -> bool {
    judge(
        group,
        &Parameters::default(),
        &KnownPrefixLists::new(),
        today(),
    )
    .compliance
        == Compliance::NonCompliant
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, max_global_rejects: 1_000_000, ..ProptestConfig::default() })]

    #[test]
    fn the_outcome_holds_for_every_deployment(case in case()) {
        let parameters = case.parameters();
        prop_assume!(parameters.len() <= 3);
        let template = case.template();
        let unknown = check(&template, &BTreeMap::new());
        let mut verdicts = BTreeSet::new();
        for values in assignments(&parameters) {
            let groups = case.deployed(&values);
            let here: BTreeSet<bool> = groups.iter().map(open).collect();
            // Everything given: exactly the rule's verdict (UNDETERMINED only
            // where AWS does not say whether the default egress remains).
            let known = check(&template, &values);
            let expected = match (here.contains(&true), here.contains(&false)) {
                (true, false) => Outcome::NonCompliant,
                (false, true) => Outcome::Compliant,
                _ => Outcome::Undetermined,
            };
            prop_assert_eq!(known.outcome, expected, "with {:?}\n{}\n{:?}", values, template, known);
            verdicts.extend(here);
        }
        match unknown.outcome {
            Outcome::NonCompliant => prop_assert!(!verdicts.contains(&false), "NON_COMPLIANT, but some deployment is closed\n{}\n{:?}", template, unknown),
            Outcome::Compliant => prop_assert!(!verdicts.contains(&true), "COMPLIANT, but some deployment is open\n{}\n{:?}", template, unknown),
            Outcome::Undetermined => {
                // It names what it depends on.
                let annotation = unknown.annotation.clone().unwrap_or_default();
                prop_assert!(annotation.contains("depending on"), "{}", annotation);
            }
            Outcome::NotEvaluated => prop_assert!(false, "not evaluated: {:?}", unknown),
        }
    }
}
