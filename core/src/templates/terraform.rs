//! Terraform plans (`terraform show -json`, format 1.x) into groups at their
//! widest and narrowest (SPEC_TEMPLATES §2-3).
//!
//! The AWS provider removes AWS's default egress when it creates a group,
//! so a group with no `egress` blocks has no egress. Values come from
//! `change.after`; `change.after_unknown` marks what is known only after
//! apply. Rule resources (`aws_security_group_rule` of type `egress`,
//! `aws_vpc_security_group_egress_rule`) join the group whose id they name,
//! known in `after` or through the reference in the configuration; a rule
//! that cannot be linked is judged on its own.

use super::node::{Node, TemplateError, Value};
use super::{decide, Bound, Bounds, CheckOptions, CheckResult, TemplateLists};
use crate::model::{EgressPermission, Protocol, SecurityGroup, Usage};
use std::collections::BTreeMap;

const GROUP_TYPES: [&str; 2] = ["aws_security_group", "aws_default_security_group"];
const RULE_TYPE: &str = "aws_security_group_rule";
const EGRESS_RULE_TYPE: &str = "aws_vpc_security_group_egress_rule";

/// Whether a document is a Terraform plan (any `format_version`; the
/// version is checked by [`check_plan`]).
pub fn is_plan(root: &Node) -> bool {
    root.get("format_version").is_some() && root.get("resource_changes").is_some()
}

/// A planned resource: its address, type, line, and its `after` and
/// `after_unknown`.
struct Planned<'p> {
    address: String,
    kind: &'p str,
    line: u32,
    after: Option<&'p Node>,
    unknown: Option<&'p Node>,
}

impl Planned<'_> {
    fn value(&self, name: &str) -> Field<'_> {
        if self.unknown.and_then(|u| u.get(name)).is_some_and(is_true) {
            return Field::Unknown;
        }
        match self.after.and_then(|a| a.get(name)) {
            None => Field::Absent,
            Some(node) if node.value == Value::Null => Field::Absent,
            Some(node) => Field::Known(node),
        }
    }
}

/// What a plan says of a value.
enum Field<'p> {
    Absent,
    Known(&'p Node),
    Unknown,
}

fn is_true(node: &Node) -> bool {
    node.value == Value::Bool(true)
}

/// Checks a plan.
pub fn check_plan(root: &Node, options: &CheckOptions) -> Result<Vec<CheckResult>, TemplateError> {
    let version = root
        .get("format_version")
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    if version.split('.').next() != Some("1") {
        return Err(TemplateError::new(
            root.get("format_version").map_or(1, |n| n.line),
            format!("format_version {version:?}: this tool reads Terraform plans of format 1.x (terraform show -json of Terraform 1.1 or later)"),
        ));
    }
    let references = configuration_references(root);
    let mut planned = Vec::new();
    for change in root
        .get("resource_changes")
        .and_then(Node::elements)
        .unwrap_or_default()
    {
        let Some(kind) = change.get("type").and_then(Node::as_str) else {
            continue;
        };
        let actions: Vec<&str> = change
            .get("change")
            .and_then(|c| c.get("actions"))
            .and_then(Node::elements)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        if actions == ["delete"] || change.get("mode").and_then(Node::as_str) == Some("data") {
            continue;
        }
        planned.push(Planned {
            address: change
                .get("address")
                .and_then(Node::as_str)
                .unwrap_or("?")
                .to_string(),
            kind,
            line: change.line,
            after: change.get("change").and_then(|c| c.get("after")),
            unknown: change.get("change").and_then(|c| c.get("after_unknown")),
        });
    }
    let groups: Vec<&Planned> = planned
        .iter()
        .filter(|p| GROUP_TYPES.contains(&p.kind))
        .collect();
    let mut rules_of: BTreeMap<String, Vec<&Planned>> = BTreeMap::new();
    let mut unlinked: Vec<&Planned> = Vec::new();
    for rule in planned.iter().filter(|p| is_egress_rule(p)) {
        match linked_group(rule, &groups, &references) {
            Some(group) => rules_of.entry(group).or_default().push(rule),
            None => unlinked.push(rule),
        }
    }
    // A plan's prefix lists are managed ones, restricted (SPEC_TEMPLATES §2).
    let prefix_lists = [TemplateLists::default()];
    let mut results = Vec::new();
    for group in &groups {
        let rules = rules_of
            .get(&group.address)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let has_egress_block = references
            .egress_blocks
            .get(&config_address(&group.address))
            .copied()
            .unwrap_or(true);
        let bounds = group_bounds(group, rules, has_egress_block, options)?;
        results.push(decide(&[bounds], &prefix_lists, options));
    }
    for rule in unlinked {
        let bounds = group_bounds(rule, &[rule], false, options)?;
        results.push(decide(&[bounds], &prefix_lists, options));
    }
    Ok(results)
}

fn is_egress_rule(p: &Planned) -> bool {
    match p.kind {
        EGRESS_RULE_TYPE => true,
        RULE_TYPE => p.after.and_then(|a| a.get("type")).and_then(Node::as_str) == Some("egress"),
        _ => false,
    }
}

/// What the configuration says: which resource each rule's
/// `security_group_id` refers to, and whether each group writes `egress`
/// blocks at all.
#[derive(Default)]
struct References {
    /// Rule configuration address → the group address it refers to.
    group_of_rule: BTreeMap<String, String>,
    /// Group configuration address → whether it has an `egress` expression.
    egress_blocks: BTreeMap<String, bool>,
}

/// A resource address without instance keys (`aws_security_group.web[0]` →
/// `aws_security_group.web`), as the configuration names it.
fn config_address(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn configuration_references(root: &Node) -> References {
    let mut references = References::default();
    let Some(module) = root.get("configuration").and_then(|c| c.get("root_module")) else {
        return references;
    };
    let mut stack: Vec<(String, &Node)> = vec![(String::new(), module)];
    while let Some((prefix, module)) = stack.pop() {
        for resource in module
            .get("resources")
            .and_then(Node::elements)
            .unwrap_or_default()
        {
            let Some(address) = resource.get("address").and_then(Node::as_str) else {
                continue;
            };
            let full = format!("{prefix}{address}");
            let kind = resource
                .get("type")
                .and_then(Node::as_str)
                .unwrap_or_default();
            let expressions = resource.get("expressions");
            if GROUP_TYPES.contains(&kind) {
                references.egress_blocks.insert(
                    full.clone(),
                    expressions.and_then(|e| e.get("egress")).is_some(),
                );
            }
            let target = expressions
                .and_then(|e| e.get("security_group_id"))
                .and_then(|e| e.get("references"))
                .and_then(Node::elements)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .find(|r| GROUP_TYPES.iter().any(|t| r.starts_with(&format!("{t}."))));
            if let Some(target) = target {
                let group = target.strip_suffix(".id").unwrap_or(target);
                references
                    .group_of_rule
                    .insert(full, format!("{prefix}{}", config_address(group)));
            }
        }
        for (name, call) in module
            .get("module_calls")
            .map(Node::members)
            .unwrap_or_default()
        {
            if let Some(child) = call.get("module") {
                stack.push((format!("{prefix}module.{}.", name.text), child));
            }
        }
    }
    references
}

/// The group a rule joins: by the id known in `after`, else by the
/// configuration's reference.
fn linked_group(rule: &Planned, groups: &[&Planned], references: &References) -> Option<String> {
    if let Field::Known(id) = rule.value("security_group_id") {
        let id = id.as_str()?;
        if let Some(group) = groups
            .iter()
            .find(|g| g.after.and_then(|a| a.get("id")).and_then(Node::as_str) == Some(id))
        {
            return Some(group.address.clone());
        }
        return None;
    }
    let target = references
        .group_of_rule
        .get(&config_address(&rule.address))?;
    let candidates: Vec<&&Planned> = groups
        .iter()
        .filter(|g| &config_address(&g.address) == target)
        .collect();
    // A rule of an instance of a counted module or resource names one
    // instance; when there are several, the one with the same keys.
    match candidates.as_slice() {
        [one] => Some(one.address.clone()),
        many => many
            .iter()
            .find(|g| instance_keys(&g.address) == instance_keys(&rule.address))
            .map(|g| g.address.clone()),
    }
}

/// The instance keys of an address (`module.a["x"].aws_x.y[0]` → `["x"] [0]`).
fn instance_keys(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in address.chars() {
        if c == '[' {
            depth += 1;
        }
        if depth > 0 {
            out.push(c);
        }
        if c == ']' {
            depth -= 1;
        }
    }
    out
}

/// A group (or an unlinked rule, judged as a one-rule group) at its widest
/// and narrowest.
fn group_bounds(
    owner: &Planned,
    rules: &[&Planned],
    has_egress_block: bool,
    options: &CheckOptions,
) -> Result<Bounds, TemplateError> {
    let mut unknowns = Vec::new();
    let mut widest = Bound {
        group: model_group(owner, Width::Widest, options, &mut unknowns),
        lines: Vec::new(),
        implicit_default: None,
    };
    let mut narrowest = Bound {
        group: model_group(owner, Width::Narrowest, options, &mut unknowns),
        lines: Vec::new(),
        implicit_default: None,
    };
    if GROUP_TYPES.contains(&owner.kind) {
        match owner.value("egress") {
            Field::Known(blocks) => {
                for (i, block) in blocks.elements().unwrap_or_default().iter().enumerate() {
                    let unknown = owner
                        .unknown
                        .and_then(|u| u.get("egress"))
                        .and_then(Node::elements)
                        .and_then(|e| e.get(i));
                    let fields = Fields {
                        after: Some(block),
                        unknown,
                    };
                    for (bound, width) in [
                        (&mut widest, Width::Widest),
                        (&mut narrowest, Width::Narrowest),
                    ] {
                        for permission in
                            block_permissions(&fields, BLOCK, width, owner, &mut unknowns)?
                        {
                            bound.group.egress.push(permission);
                            bound.lines.push(owner.line);
                        }
                    }
                }
            }
            // Unknown only because no block is written: the provider computes
            // it from the rule resources, so there are no inline rules.
            Field::Unknown if has_egress_block => {
                unknowns.push(format!("{}.egress (known after apply)", owner.address));
                let mut permission =
                    EgressPermission::new(Protocol::All, None, None).expect("no ports");
                permission.add_cidr("0.0.0.0/0");
                permission.add_cidr("::/0");
                widest.group.egress.push(permission);
                widest.lines.push(owner.line);
            }
            Field::Unknown | Field::Absent => {}
        }
    }
    for rule in rules {
        let fields = Fields {
            after: rule.after,
            unknown: rule.unknown,
        };
        let names = if rule.kind == EGRESS_RULE_TYPE {
            VPC_RULE
        } else {
            LEGACY_RULE
        };
        for (bound, width) in [
            (&mut widest, Width::Widest),
            (&mut narrowest, Width::Narrowest),
        ] {
            for permission in block_permissions(&fields, names, width, rule, &mut unknowns)? {
                bound.group.egress.push(permission);
                bound.lines.push(rule.line);
            }
        }
    }
    Ok(Bounds {
        resource: owner.address.clone(),
        resource_type: owner.kind.to_string(),
        construct_path: None,
        line: owner.line,
        widest: Some(widest),
        narrowest: Some(narrowest),
        unknowns,
        defaults: Vec::new(),
        tried: Vec::new(),
        created_only_when: None,
        assignment: 0,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    Widest,
    Narrowest,
}

/// The model group of a planned group (or rule): id, VPC and tags, with an
/// unknown exemption tag or VPC exempting only at the narrowest.
fn model_group(
    p: &Planned,
    width: Width,
    options: &CheckOptions,
    unknowns: &mut Vec<String>,
) -> SecurityGroup {
    let text = |name: &str| match p.value(name) {
        Field::Known(n) => n.as_str().map(str::to_string),
        _ => None,
    };
    let mut group = SecurityGroup {
        group_id: text("id")
            .or_else(|| text("security_group_id"))
            .unwrap_or_else(|| p.address.clone()),
        vpc_id: text("vpc_id"),
        tags: BTreeMap::new(),
        usage: Usage::Unknown,
        egress: Vec::new(),
    };
    // An unknown VPC decides something only when some VPC is exempt.
    if matches!(p.value("vpc_id"), Field::Unknown) && !options.parameters.exempt_vpc_ids.is_empty()
    {
        unknowns.push(format!("{}.vpc_id (known after apply)", p.address));
        if width == Width::Narrowest {
            group.vpc_id = options.parameters.exempt_vpc_ids.iter().next().cloned();
        }
    }
    match p.value("tags_all") {
        Field::Known(tags) => {
            for (key, value) in tags.members() {
                if let Some(v) = value.scalar_text() {
                    group.tags.insert(key.text.clone(), v);
                }
            }
            // A tag whose value is known only after apply.
            if let (Some(key), Some(unknown)) = (
                options.parameters.exempt_tag_key.as_deref(),
                p.unknown.and_then(|u| u.get("tags_all")),
            ) {
                if unknown.get(key).is_some_and(is_true) {
                    unknowns.push(format!("{}.tags_all[{key}] (known after apply)", p.address));
                    if width == Width::Narrowest {
                        group
                            .tags
                            .insert(key.to_string(), "(known after apply)".to_string());
                    }
                }
            }
        }
        Field::Unknown => {
            if let Some(key) = options.parameters.exempt_tag_key.as_deref() {
                unknowns.push(format!("{}.tags_all (known after apply)", p.address));
                if width == Width::Narrowest {
                    group
                        .tags
                        .insert(key.to_string(), "(known after apply)".to_string());
                }
            }
        }
        Field::Absent => {}
    }
    group
}

/// A block or rule's values, with what is unknown of them.
struct Fields<'p> {
    after: Option<&'p Node>,
    unknown: Option<&'p Node>,
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Field<'_> {
        if self.unknown.and_then(|u| u.get(name)).is_some_and(is_true) {
            return Field::Unknown;
        }
        match self.after.and_then(|a| a.get(name)) {
            None => Field::Absent,
            Some(node) if node.value == Value::Null => Field::Absent,
            Some(node) => Field::Known(node),
        }
    }

    /// The known elements of a list, and whether some are unknown.
    fn list(&self, name: &str) -> (Vec<String>, bool) {
        match self.get(name) {
            Field::Known(list) => {
                let elements_unknown = self
                    .unknown
                    .and_then(|u| u.get(name))
                    .and_then(Node::elements)
                    .is_some_and(|e| e.iter().any(is_true));
                let known = list
                    .elements()
                    .map(|items| items.iter().filter_map(Node::scalar_text).collect())
                    .or_else(|| list.scalar_text().map(|t| vec![t]))
                    .unwrap_or_default();
                (known, elements_unknown)
            }
            Field::Unknown => (Vec::new(), true),
            Field::Absent => (Vec::new(), false),
        }
    }
}

/// The member names of one kind of rule.
#[derive(Clone, Copy)]
struct Names {
    protocol: &'static str,
    from_port: &'static str,
    to_port: &'static str,
    ipv4: &'static str,
    ipv6: &'static str,
    prefix_lists: &'static str,
    groups: &'static [&'static str],
}

/// An `egress` block of `aws_security_group`.
const BLOCK: Names = Names {
    protocol: "protocol",
    from_port: "from_port",
    to_port: "to_port",
    ipv4: "cidr_blocks",
    ipv6: "ipv6_cidr_blocks",
    prefix_lists: "prefix_list_ids",
    groups: &["security_groups", "self"],
};

/// `aws_security_group_rule`.
const LEGACY_RULE: Names = Names {
    protocol: "protocol",
    from_port: "from_port",
    to_port: "to_port",
    ipv4: "cidr_blocks",
    ipv6: "ipv6_cidr_blocks",
    prefix_lists: "prefix_list_ids",
    groups: &["source_security_group_id", "self"],
};

/// `aws_vpc_security_group_egress_rule`.
const VPC_RULE: Names = Names {
    protocol: "ip_protocol",
    from_port: "from_port",
    to_port: "to_port",
    ipv4: "cidr_ipv4",
    ipv6: "cidr_ipv6",
    prefix_lists: "prefix_list_id",
    groups: &["referenced_security_group_id"],
};

/// One block or rule as permissions at a bound: unknown values at their
/// widest (all protocols, all ports, the whole family), or, at the
/// narrowest, the rule dropped (an unknown protocol or port) or the
/// destination dropped.
fn block_permissions(
    fields: &Fields,
    names: Names,
    width: Width,
    owner: &Planned,
    unknowns: &mut Vec<String>,
) -> Result<Vec<EgressPermission>, TemplateError> {
    let line = owner.line;
    let mut note =
        |what: &str| unknowns.push(format!("{}.{what} (known after apply)", owner.address));
    let protocol = match fields.get(names.protocol) {
        Field::Known(p) => {
            let text = p.scalar_text().unwrap_or_default();
            text.parse::<Protocol>()
                .map_err(|e| TemplateError::new(line, format!("{}: {e}", names.protocol)))?
        }
        Field::Unknown => {
            note(names.protocol);
            if width == Width::Narrowest {
                return Ok(Vec::new());
            }
            Protocol::All
        }
        Field::Absent => return Ok(Vec::new()),
    };
    let mut port = |name: &str| -> Result<Option<Option<i64>>, TemplateError> {
        Ok(match fields.get(name) {
            Field::Known(p) => Some(Some(p.integer().ok_or_else(|| {
                TemplateError::new(line, format!("{name}: {} is not a port", p.value))
            })?)),
            Field::Unknown => {
                note(name);
                (width == Width::Widest).then_some(None)
            }
            Field::Absent => Some(None),
        })
    };
    let (Some(from), Some(to)) = (port(names.from_port)?, port(names.to_port)?) else {
        return Ok(Vec::new());
    };
    let mut permission = EgressPermission::new(protocol, from, to)
        .map_err(|e| TemplateError::new(line, e.to_string()))?;
    for (name, whole) in [(names.ipv4, "0.0.0.0/0"), (names.ipv6, "::/0")] {
        let (known, some_unknown) = fields.list(name);
        for cidr in known {
            permission.add_cidr(&cidr);
        }
        if some_unknown {
            note(name);
            if width == Width::Widest {
                permission.add_cidr(whole);
            }
        }
    }
    let (lists, _) = fields.list(names.prefix_lists);
    permission.prefix_list_ids.extend(lists);
    for name in names.groups {
        match fields.get(name) {
            Field::Known(node) if node.value != Value::Bool(false) => {
                permission.referenced_group_ids.push(name.to_string())
            }
            _ => {}
        }
    }
    Ok(vec![permission])
}
