//! CloudFormation templates (and CDK's output) into groups at their widest
//! and narrowest (SPEC_TEMPLATES §2-3).
//!
//! A group's egress is its `SecurityGroupEgress` list when present and not
//! empty; otherwise the implicit default CloudFormation adds (`-1` to
//! `0.0.0.0/0`); plus every standalone `AWS::EC2::SecurityGroupEgress` that
//! names it by `Ref` or `Fn::GetAtt`. A standalone rule that names a group
//! outside the template is judged on its own.

use super::node::{Node, TemplateError};
use super::resolve::{Kind as V, ParameterValue, Resolver, V as Resolved};
use super::{decide, Bound, Bounds, CheckOptions, CheckResult, Kind, Outcome, TemplateLists};
use crate::cidr::Cidr;
use crate::model::{
    CidrDestination, EgressPermission, KnownPrefixLists, Protocol, SecurityGroup, Usage,
};
use std::collections::BTreeMap;

pub const GROUP_TYPE: &str = "AWS::EC2::SecurityGroup";
pub const EGRESS_TYPE: &str = "AWS::EC2::SecurityGroupEgress";
const PREFIX_LIST_TYPE: &str = "AWS::EC2::PrefixList";
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// At most this many assignments of parameters with `AllowedValues` are
/// tried; past it, the rest are unknown.
const MAX_ASSIGNMENTS: usize = 64;

/// At most this many (protocol, from, to) alternatives of one rule are
/// judged one by one; past it, the rule is all traffic at the widest.
const MAX_ALTERNATIVES: usize = 1024;

/// Whether a document is a CloudFormation template.
pub fn is_template(root: &Node) -> bool {
    root.get("Resources")
        .is_some_and(|r| matches!(r.value, super::node::Value::Map(_)))
        || root.get("AWSTemplateFormatVersion").is_some()
}

/// What checking a template found: a result per group and unlinked rule,
/// and the nested stacks' template files it names (CDK's
/// `aws:asset:path`), to be checked as templates of their own.
#[derive(Debug, Default)]
pub struct TemplateCheck {
    pub results: Vec<CheckResult>,
    pub nested_templates: Vec<String>,
    /// What the user should know that is no result (`line: text`).
    pub notes: Vec<String>,
}

/// Checks one template.
pub fn check_template(root: &Node, options: &CheckOptions) -> Result<TemplateCheck, TemplateError> {
    let resources = root.get("Resources").map(Node::members).unwrap_or_default();
    let mut check = TemplateCheck {
        notes: rules_without_destination(resources),
        ..TemplateCheck::default()
    };
    for (_, resource) in resources {
        if type_of(resource) == Some(STACK_TYPE) {
            if let Some(path) = resource
                .get("Metadata")
                .and_then(|m| m.get("aws:asset:path"))
                .and_then(Node::as_str)
            {
                check.nested_templates.push(path.to_string());
            }
        }
    }
    if let Some(transform) = root.get("Transform") {
        let names: Vec<String> = match transform.elements() {
            Some(items) => items.iter().filter_map(Node::scalar_text).collect(),
            None => transform.scalar_text().into_iter().collect(),
        };
        let names = if names.is_empty() {
            "a transform".to_string()
        } else {
            names.join(", ")
        };
        let template = Template::new(root, std::rc::Rc::new(Index::new(root)), BTreeMap::new());
        for (key, resource) in resources {
            let kind = type_of(resource);
            // A standalone rule of a group of the template is part of it.
            let unlinked_rule =
                kind == Some(EGRESS_TYPE) && template.linked_group(resource).is_none();
            if kind == Some(GROUP_TYPE) || unlinked_rule {
                check.results.push(CheckResult {
                    resource: key.text.clone(),
                    resource_type: kind.unwrap_or_default().to_string(),
                    construct_path: construct_path(resource),
                    outcome: Outcome::NotEvaluated,
                    kind: Kind::NotEvaluated,
                    annotation: crate::verdict::fit_annotation(&format!(
                        "not evaluated: the template has Transform {names}, so its groups are known only after the transform runs (check the processed template)"
                    )),
                    exemption: None,
                    line: key.line,
                    related_lines: Vec::new(),
                });
            }
        }
        if check.results.is_empty() {
            // No group written, but the transform may create some
            // (`Fn::ForEach`, a macro): one result for the template, so that
            // it is never taken for a template without groups.
            check.results.push(CheckResult {
                resource: "Transform".to_string(),
                resource_type: "AWS::CloudFormation::Transform".to_string(),
                construct_path: None,
                outcome: Outcome::NotEvaluated,
                kind: Kind::NotEvaluated,
                annotation: crate::verdict::fit_annotation(&format!(
                    "not evaluated: the template has Transform {names}, which may create security groups known only after it runs (check the processed template); it writes none itself"
                )),
                exemption: None,
                line: transform.line,
                related_lines: Vec::new(),
            });
        }
        return Ok(check);
    }
    let assignments = assignments(root, &options.template_parameters, options.assume_defaults);
    let index = std::rc::Rc::new(Index::new(root));
    // Every group's bounds under each assignment, then one decision each.
    let mut per_resource: BTreeMap<usize, Vec<Bounds>> = BTreeMap::new();
    let mut lists = Vec::with_capacity(assignments.len());
    for (assignment, parameters) in assignments.iter().enumerate() {
        let template = Template::new(root, index.clone(), parameters.clone());
        lists.push(template.prefix_lists(&options.prefix_lists)?);
        for (index, (key, resource)) in resources.iter().enumerate() {
            let mut bounds = match type_of(resource) {
                Some(GROUP_TYPE) => template.each_condition(|t| t.group(key, resource, options))?,
                Some(EGRESS_TYPE) if template.linked_group(resource).is_none() => {
                    template.each_condition(|t| t.unlinked_rule(key, resource, options))?
                }
                _ => Vec::new(),
            };
            bounds.iter_mut().for_each(|b| b.assignment = assignment);
            if !bounds.is_empty() {
                per_resource.entry(index).or_default().extend(bounds);
            }
        }
    }
    for bounds in per_resource.values() {
        check.results.push(decide(bounds, &lists, options));
    }
    Ok(check)
}

fn type_of(resource: &Node) -> Option<&str> {
    resource.get("Type").and_then(Node::as_str)
}

fn construct_path(resource: &Node) -> Option<String> {
    resource
        .get("Metadata")
        .and_then(|m| m.get("aws:cdk:path"))
        .and_then(Node::as_str)
        .map(str::to_string)
}

/// The parameters' values for each evaluation: given values win; else the
/// default (assumed, and said, unless `assume_defaults` is false); else each
/// allowed value in turn; else unknown. SSM parameter types are unknown
/// (their default names a parameter, not a value).
fn assignments(
    root: &Node,
    given: &BTreeMap<String, String>,
    assume_defaults: bool,
) -> Vec<BTreeMap<String, ParameterValue>> {
    let mut fixed = BTreeMap::new();
    let mut enumerated: Vec<(String, Vec<String>)> = Vec::new();
    for (key, declaration) in root
        .get("Parameters")
        .map(Node::members)
        .unwrap_or_default()
    {
        let name = key.text.clone();
        let kind = declaration
            .get("Type")
            .and_then(Node::as_str)
            .unwrap_or("String");
        let value = if let Some(value) = given.get(&name) {
            ParameterValue::Given(value.clone())
        } else if kind.starts_with("AWS::SSM::Parameter::Value<") {
            ParameterValue::Unknown("an SSM parameter, resolved at deployment".to_string())
        } else if let Some(default) = declaration
            .get("Default")
            .and_then(Node::scalar_text)
            .filter(|_| assume_defaults)
        {
            ParameterValue::Default(default)
        } else if let Some(allowed) = declaration.get("AllowedValues").and_then(Node::elements) {
            enumerated.push((name, allowed.iter().filter_map(Node::scalar_text).collect()));
            continue;
        } else if declaration.get("Default").is_some() {
            ParameterValue::Unknown("chosen at deployment, its default not assumed".to_string())
        } else {
            ParameterValue::Unknown("no value, no default".to_string())
        };
        fixed.insert(name, value);
    }
    let mut out = vec![fixed];
    for (name, values) in enumerated {
        if values.is_empty() || out.len() * values.len() > MAX_ASSIGNMENTS {
            for assignment in &mut out {
                assignment.insert(
                    name.clone(),
                    ParameterValue::Unknown(format!("one of {} allowed values", values.len())),
                );
            }
            continue;
        }
        out = out
            .into_iter()
            .flat_map(|assignment| {
                let name = &name;
                values.iter().map(move |value| {
                    let mut next = assignment.clone();
                    next.insert(name.clone(), ParameterValue::Allowed(value.clone()));
                    next
                })
            })
            .collect();
    }
    out
}

/// One evaluation of a template under one assignment of its parameters.
struct Template<'t> {
    root: &'t Node,
    index: std::rc::Rc<Index<'t>>,
    parameters: BTreeMap<String, ParameterValue>,
    /// Conditions not known until deployment, given a value to try.
    forced: BTreeMap<String, bool>,
}

/// Parameters and the values an evaluation gave them.
type Assigned = Vec<(String, String)>;

/// At most this many conditions not known until deployment are tried both
/// ways for one group; past it, they are judged at the widest and
/// narrowest.
const MAX_CONDITIONS: usize = 5;

/// A rule of a group, as written: where, its resolved properties, and
/// whether it exists only under a condition not known until deployment.
struct Candidate {
    line: u32,
    rule: Resolved,
    conditional: bool,
}

/// What a group's own `SecurityGroupEgress` says.
struct Inline {
    candidates: Vec<Candidate>,
    /// The list is (or may be) absent or empty: the implicit default.
    default: Presence,
    unknowns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    No,
    Maybe,
    Yes,
}

impl Presence {
    /// The presence over alternatives: certain only when all agree.
    fn combine(presences: &[Presence]) -> Presence {
        match presences.split_first() {
            Some((first, rest)) if rest.iter().all(|p| p == first) => *first,
            Some(_) => Presence::Maybe,
            None => Presence::Yes,
        }
    }
}

/// The template's resources by logical id, and each group's standalone
/// egress resources, found once (a template may hold thousands).
struct Index<'t> {
    resources: std::collections::HashMap<&'t str, &'t Node>,
    standalone: std::collections::HashMap<&'t str, Vec<&'t Node>>,
}

impl<'t> Index<'t> {
    fn new(root: &'t Node) -> Self {
        let members = root.get("Resources").map(Node::members).unwrap_or_default();
        let resources: std::collections::HashMap<&'t str, &'t Node> =
            members.iter().map(|(k, v)| (k.text.as_str(), v)).collect();
        let mut index = Index {
            resources,
            standalone: std::collections::HashMap::new(),
        };
        for (_, resource) in members {
            if type_of(resource) == Some(EGRESS_TYPE) {
                if let Some(group) = index.linked_group(resource) {
                    index.standalone.entry(group).or_default().push(resource);
                }
            }
        }
        index
    }

    /// The group a standalone egress names by `Ref` or `Fn::GetAtt …
    /// GroupId` when it is a group of this template.
    fn linked_group(&self, resource: &Node) -> Option<&'t str> {
        let id = resource.get("Properties")?.get("GroupId")?;
        let (name, argument) = id.function()?;
        let target = match name {
            "Ref" => argument.as_str()?,
            "Fn::GetAtt" => match argument.elements()? {
                [target, attribute] if attribute.as_str() == Some("GroupId") => target.as_str()?,
                _ => return None,
            },
            _ => return None,
        };
        let (&key, &group) = self.resources.get_key_value(target)?;
        (type_of(group) == Some(GROUP_TYPE)).then_some(key)
    }
}

impl<'t> Template<'t> {
    fn new(
        root: &'t Node,
        index: std::rc::Rc<Index<'t>>,
        parameters: BTreeMap<String, ParameterValue>,
    ) -> Self {
        Template {
            root,
            index,
            parameters,
            forced: BTreeMap::new(),
        }
    }

    fn resolver(&self) -> Resolver<'t> {
        let resolver = Resolver::new(self.root, self.parameters.clone());
        for (name, value) in &self.forced {
            resolver.force(name, *value);
        }
        resolver
    }

    /// A resource's bounds with each condition it meets that is not known
    /// until deployment tried both ways. Every deployment gives each
    /// condition some value, so the combinations cover every deployment
    /// (and perhaps some that cannot happen): an outcome that holds for
    /// all of them holds for every deployment. Conditions that go
    /// together, as `!If [C, a, b]` beside `!If [C, b, a]`, are then
    /// judged together rather than each at its widest and narrowest.
    fn each_condition(
        &self,
        once: impl Fn(&Template<'t>) -> Result<Option<(Bounds, Vec<String>)>, TemplateError>,
    ) -> Result<Vec<Bounds>, TemplateError> {
        let Some((probe, names)) = once(self)? else {
            return Ok(Vec::new());
        };
        if names.is_empty() || names.len() > MAX_CONDITIONS {
            return Ok(vec![probe]);
        }
        let mut out = Vec::new();
        let mut absent = false;
        for mask in 0..(1u32 << names.len()) {
            let mut forced = self.forced.clone();
            for (i, name) in names.iter().enumerate() {
                forced.insert(name.clone(), mask & (1 << i) != 0);
            }
            let template = Template {
                root: self.root,
                index: self.index.clone(),
                parameters: self.parameters.clone(),
                forced,
            };
            match once(&template)? {
                Some((mut bounds, _)) => {
                    bounds.unknowns.extend(probe.unknowns.iter().cloned());
                    out.push(bounds);
                }
                None => absent = true,
            }
        }
        if absent {
            let conditions: Vec<&str> = probe
                .unknowns
                .iter()
                .filter(|u| u.starts_with("condition "))
                .map(String::as_str)
                .collect();
            for bounds in &mut out {
                bounds.created_only_when = Some(conditions.join("; "));
            }
        }
        Ok(out)
    }

    fn resources(&self) -> &'t [(super::node::Key, Node)] {
        self.root
            .get("Resources")
            .map(Node::members)
            .unwrap_or_default()
    }

    fn resource(&self, name: &str) -> Option<&'t Node> {
        self.index.resources.get(name).copied()
    }

    /// The entries of the prefix lists defined in the template, by logical
    /// id, at both bounds: an entry not known until deployment (a `Cidr`
    /// from a parameter with no value, an import, a condition) is the whole
    /// address family at the widest (both families when `AddressFamily` is
    /// not known either) and absent at the narrowest, as a rule's unknown
    /// CIDR is (SPEC_TEMPLATES §3). `managed` holds the lists outside the
    /// template whose entries were read.
    fn prefix_lists(&self, managed: &KnownPrefixLists) -> Result<TemplateLists, TemplateError> {
        let mut lists = TemplateLists {
            narrowest: managed.clone(),
            widest: managed.clone(),
            unknowns: BTreeMap::new(),
        };
        let resolver = self.resolver();
        for (key, resource) in self.resources() {
            if type_of(resource) != Some(PREFIX_LIST_TYPE) {
                continue;
            }
            let properties = resource.get("Properties");
            let family = properties
                .and_then(|p| p.get("AddressFamily"))
                .map(|f| resolver.resolve(f))
                .and_then(|f| f.text().map(str::to_ascii_lowercase));
            let whole_family: &[&str] = match family.as_deref() {
                Some("ipv4") => &["0.0.0.0/0"],
                Some("ipv6") => &["::/0"],
                _ => &["0.0.0.0/0", "::/0"],
            };
            let mut entries = ListEntries::default();
            if let Some(node) = properties.and_then(|p| p.get("Entries")) {
                let resolved = resolver.resolve(node);
                match &resolved.kind {
                    V::List(items) => {
                        for item in items {
                            match item.get("Cidr").map(|c| (c.text(), &c.kind)) {
                                Some((Some(cidr), _)) => entries.known(cidr),
                                Some((None, V::Unknown(why))) => {
                                    entries.unknown(format!("Cidr = {why}"), whole_family)
                                }
                                _ => match &item.kind {
                                    V::Unknown(why) => entries.unknown(why.clone(), whole_family),
                                    _ => entries.unknown(
                                        "an entry without a known Cidr".to_string(),
                                        whole_family,
                                    ),
                                },
                            }
                        }
                    }
                    V::Unknown(why) => entries.unknown(format!("Entries = {why}"), whole_family),
                    _ => {
                        return Err(TemplateError::new(
                            node.line,
                            format!("{}: Entries is not a list", key.text),
                        ))
                    }
                }
            }
            let line = properties.map_or(key.line, |p| p.line);
            for (bound, cidrs) in [
                (&mut lists.narrowest, &entries.narrowest),
                (&mut lists.widest, &entries.widest),
            ] {
                bound
                    .insert(&key.text, cidrs)
                    .map_err(|m| TemplateError::new(line, m))?;
            }
            if !entries.unknowns.is_empty() {
                lists.unknowns.insert(key.text.clone(), entries.unknowns);
            }
        }
        Ok(lists)
    }

    fn linked_group(&self, resource: &Node) -> Option<&'t str> {
        self.index.linked_group(resource)
    }

    /// A resource's own condition: `None` when not known until deployment.
    fn exists(&self, resource: &Node, resolver: &Resolver) -> Option<bool> {
        match resource.get("Condition").and_then(Node::as_str) {
            None => Some(true),
            Some(name) => resolver.condition(name),
        }
    }

    /// A group's bounds (`None` when its condition is false).
    fn group(
        &self,
        key: &super::node::Key,
        resource: &Node,
        options: &CheckOptions,
    ) -> Result<Option<(Bounds, Vec<String>)>, TemplateError> {
        let resolver = self.resolver();
        let exists = self.exists(resource, &resolver);
        if exists == Some(false) {
            return Ok(None);
        }
        let properties = resource.get("Properties");
        let mut unknowns = Vec::new();
        let inline = self.inline(properties, &resolver)?;
        unknowns.extend(inline.unknowns.iter().cloned());
        let mut candidates = inline.candidates;
        let mut linked = 0;
        let standalone = self
            .index
            .standalone
            .get(key.text.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for &other in standalone {
            let condition = self.exists(other, &resolver);
            if condition == Some(false) {
                continue;
            }
            linked += 1;
            let line = other.key("Properties").map_or(key.line, |k| k.line);
            let rule = other
                .get("Properties")
                .map(|p| resolver.resolve(p))
                .unwrap_or(Resolved {
                    line,
                    kind: V::Map(Vec::new()),
                });
            candidates.push(Candidate {
                line,
                rule,
                conditional: condition.is_none(),
            });
        }
        let default = match (inline.default, linked) {
            (Presence::No, _) => Presence::No,
            (_, n) if n > 0 => {
                unknowns.push(
                    "the implicit default egress may remain beside the standalone rules"
                        .to_string(),
                );
                Presence::Maybe
            }
            (presence, _) => presence,
        };
        if exists.is_none() {
            unknowns.push(format!(
                "Condition {} (not known until deployment)",
                resource
                    .get("Condition")
                    .and_then(Node::as_str)
                    .unwrap_or("?")
            ));
        }
        let widest = self.bound(
            key,
            properties,
            &candidates,
            default != Presence::No,
            Width::Widest,
            &resolver,
            options,
            &mut unknowns,
        )?;
        let narrowest = if exists.is_none() {
            None
        } else {
            Some(self.bound(
                key,
                properties,
                &candidates,
                default == Presence::Yes,
                Width::Narrowest,
                &resolver,
                options,
                &mut unknowns,
            )?)
        };
        let (defaults, tried) = self.used(&resolver);
        unknowns.extend(resolver.unknown_conditions());
        let bounds = Bounds {
            resource: key.text.clone(),
            resource_type: GROUP_TYPE.to_string(),
            construct_path: construct_path(resource),
            line: key.line,
            widest: Some(widest),
            narrowest,
            unknowns,
            defaults,
            tried,
            created_only_when: None,
            assignment: 0,
        };
        Ok(Some((bounds, resolver.unknown_condition_names())))
    }

    /// The parameters an evaluation took from their defaults, and those it
    /// took from the allowed values being tried, with their values.
    fn used(&self, resolver: &Resolver) -> (Assigned, Assigned) {
        let pick = |names: &std::collections::BTreeSet<String>,
                    defaults: bool|
         -> Vec<(String, String)> {
            names
                .iter()
                .filter_map(|name| match (self.parameters.get(name), defaults) {
                    (Some(ParameterValue::Default(v)), true)
                    | (Some(ParameterValue::Allowed(v)), false) => Some((name.clone(), v.clone())),
                    _ => None,
                })
                .collect()
        };
        (
            pick(&resolver.defaults_used.borrow(), true),
            pick(&resolver.allowed_used.borrow(), false),
        )
    }

    /// A standalone rule that names a group outside the template, judged as
    /// a one-rule group named by its logical id.
    fn unlinked_rule(
        &self,
        key: &super::node::Key,
        resource: &Node,
        options: &CheckOptions,
    ) -> Result<Option<(Bounds, Vec<String>)>, TemplateError> {
        let resolver = self.resolver();
        let exists = self.exists(resource, &resolver);
        if exists == Some(false) {
            return Ok(None);
        }
        let line = resource.key("Properties").map_or(key.line, |k| k.line);
        let rule = resource
            .get("Properties")
            .map(|p| resolver.resolve(p))
            .unwrap_or(Resolved {
                line,
                kind: V::Map(Vec::new()),
            });
        let group_id = rule
            .get("GroupId")
            .and_then(Resolved::text)
            .unwrap_or(&key.text)
            .to_string();
        let mut unknowns = Vec::new();
        let candidate = [Candidate {
            line,
            rule,
            conditional: exists.is_none(),
        }];
        let known = options.known_groups.get(&group_id);
        let make = |width: Width, unknowns: &mut Vec<String>| -> Result<Bound, TemplateError> {
            let mut bound = Bound {
                group: SecurityGroup {
                    group_id: group_id.clone(),
                    vpc_id: known.and_then(|g| g.vpc_id.clone()),
                    tags: known.map(|g| g.tags.clone()).unwrap_or_default(),
                    usage: Usage::Unknown,
                    egress: Vec::new(),
                },
                lines: Vec::new(),
                implicit_default: None,
            };
            add_rules(&mut bound, &candidate, width, self, &resolver, unknowns)?;
            Ok(bound)
        };
        let widest = make(Width::Widest, &mut unknowns)?;
        let narrowest = if exists.is_none() {
            None
        } else {
            Some(make(Width::Narrowest, &mut unknowns)?)
        };
        let (defaults, tried) = self.used(&resolver);
        unknowns.extend(resolver.unknown_conditions());
        let bounds = Bounds {
            resource: key.text.clone(),
            resource_type: EGRESS_TYPE.to_string(),
            construct_path: construct_path(resource),
            line,
            widest: Some(widest),
            narrowest,
            unknowns,
            defaults,
            tried,
            created_only_when: None,
            assignment: 0,
        };
        Ok(Some((bounds, resolver.unknown_condition_names())))
    }

    /// What the group's own `SecurityGroupEgress` holds.
    fn inline(
        &self,
        properties: Option<&Node>,
        resolver: &Resolver,
    ) -> Result<Inline, TemplateError> {
        let mut inline = Inline {
            candidates: Vec::new(),
            default: Presence::No,
            unknowns: Vec::new(),
        };
        let Some(list) = properties.and_then(|p| p.get("SecurityGroupEgress")) else {
            inline.default = Presence::Yes;
            return Ok(inline);
        };
        // Item by item where the list is written out, for each item's line.
        let items: Vec<(u32, Resolved)> = match list.elements() {
            Some(items) => items
                .iter()
                .map(|i| (i.line, resolver.resolve(i)))
                .collect(),
            None => {
                let resolved = resolver.resolve(list);
                match resolved.kind {
                    V::NoValue | V::Null => {
                        inline.default = Presence::Yes;
                        return Ok(inline);
                    }
                    V::List(items) => items.into_iter().map(|i| (i.line, i)).collect(),
                    V::Choice(alternatives) => {
                        inline.unknowns.push(format!(
                            "SecurityGroupEgress at line {} (Fn::If on a condition not known until deployment)",
                            list.line
                        ));
                        let mut presences = Vec::new();
                        for alternative in flatten_choices(alternatives) {
                            presences.push(match alternative.kind {
                                V::NoValue | V::Null => Presence::Yes,
                                V::List(items) => {
                                    add_items(&mut inline.candidates, items.into_iter().map(|i| (i.line, i)).collect(), true)
                                }
                                _ => {
                                    inline.candidates.push(Candidate {
                                        line: list.line,
                                        rule: alternative,
                                        conditional: true,
                                    });
                                    Presence::No
                                }
                            });
                        }
                        inline.default = Presence::combine(&presences);
                        return Ok(inline);
                    }
                    V::Unknown(why) => {
                        inline.unknowns.push(format!("SecurityGroupEgress = {why}"));
                        inline.candidates.push(Candidate {
                            line: list.line,
                            rule: Resolved {
                                line: list.line,
                                kind: V::Unknown(why),
                            },
                            conditional: true,
                        });
                        return Ok(inline);
                    }
                    _ => {
                        return Err(TemplateError::new(
                            list.line,
                            "SecurityGroupEgress must be a list of rules (CloudFormation refuses a template where it is not)",
                        ))
                    }
                }
            }
        };
        inline.default = add_items(&mut inline.candidates, items, false);
        Ok(inline)
    }

    /// The group at one bound.
    #[allow(clippy::too_many_arguments)]
    fn bound(
        &self,
        key: &super::node::Key,
        properties: Option<&Node>,
        candidates: &[Candidate],
        default: bool,
        width: Width,
        resolver: &Resolver,
        options: &CheckOptions,
        unknowns: &mut Vec<String>,
    ) -> Result<Bound, TemplateError> {
        let resolved = properties.map(|p| resolver.resolve(p));
        let mut group = SecurityGroup {
            group_id: key.text.clone(),
            vpc_id: None,
            tags: BTreeMap::new(),
            usage: Usage::Unknown,
            egress: Vec::new(),
        };
        if let Some(properties) = &resolved {
            match properties.get("VpcId").map(|v| &v.kind) {
                Some(V::Scalar { text, .. }) => group.vpc_id = Some(text.clone()),
                Some(V::Unknown(_)) | Some(V::Choice(_)) if width == Width::Narrowest => {
                    // At its narrowest an unknown VPC is an exempt one.
                    group.vpc_id = options.parameters.exempt_vpc_ids.iter().next().cloned();
                }
                // Named only when some VPC is exempt: else it decides nothing.
                Some(V::Unknown(why)) if !options.parameters.exempt_vpc_ids.is_empty() => {
                    unknowns.push(format!("VpcId = {why}"))
                }
                _ => {}
            }
            tags(properties.get("Tags"), width, options, &mut group, unknowns);
        }
        let mut bound = Bound {
            group,
            lines: Vec::new(),
            implicit_default: None,
        };
        if default {
            let block = Cidr::parse("0.0.0.0/0").expect("the whole IPv4 space");
            let mut permission =
                EgressPermission::new(Protocol::All, None, None).expect("no ports");
            permission.cidrs.push(CidrDestination {
                text: "0.0.0.0/0 (implicit default egress)".to_string(),
                block: Some(block),
            });
            bound.implicit_default = Some(bound.group.egress.len());
            bound.group.egress.push(permission);
            bound.lines.push(key.line);
        }
        add_rules(&mut bound, candidates, width, self, resolver, unknowns)?;
        Ok(bound)
    }
}

/// Which bound a group is built at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    Widest,
    Narrowest,
}

/// The exemption tag and the others: an unknown value exempts at the
/// narrowest and not at the widest.
fn tags(
    tags: Option<&Resolved>,
    width: Width,
    options: &CheckOptions,
    group: &mut SecurityGroup,
    unknowns: &mut Vec<String>,
) {
    const UNKNOWN: &str = "(not known until deployment)";
    let exempt_key = options.parameters.exempt_tag_key.as_deref();
    match tags.map(|t| &t.kind) {
        Some(V::List(items)) => {
            for item in items {
                let (Some(key), value) =
                    (item.get("Key").and_then(Resolved::text), item.get("Value"))
                else {
                    continue;
                };
                match value.map(|v| &v.kind) {
                    Some(V::Scalar { text, .. }) => {
                        group.tags.insert(key.to_string(), text.clone());
                    }
                    Some(V::Unknown(why)) if Some(key) == exempt_key => {
                        unknowns.push(format!("tag {key} = {why}"));
                        if width == Width::Narrowest {
                            group.tags.insert(key.to_string(), UNKNOWN.to_string());
                        }
                    }
                    Some(V::Choice(_)) if Some(key) == exempt_key => {
                        unknowns.push(format!(
                            "tag {key} (Fn::If on a condition not known until deployment)"
                        ));
                        if width == Width::Narrowest {
                            group.tags.insert(key.to_string(), UNKNOWN.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(V::Unknown(_)) | Some(V::Choice(_)) if exempt_key.is_some() => {
            if width == Width::Narrowest {
                group.tags.insert(
                    exempt_key.unwrap_or_default().to_string(),
                    UNKNOWN.to_string(),
                );
            }
            unknowns.push("Tags (not known until deployment)".to_string());
        }
        _ => {}
    }
}

/// Adds each candidate rule's permissions at the bound.
fn add_rules(
    bound: &mut Bound,
    candidates: &[Candidate],
    width: Width,
    template: &Template,
    resolver: &Resolver,
    unknowns: &mut Vec<String>,
) -> Result<(), TemplateError> {
    for candidate in candidates {
        if candidate.conditional && width == Width::Narrowest {
            continue;
        }
        for permission in permissions(candidate, width, template, resolver, unknowns)? {
            bound.group.egress.push(permission);
            bound.lines.push(candidate.line);
        }
    }
    Ok(())
}

/// The items of a written-out `SecurityGroupEgress` list as candidates,
/// and whether the list is empty (then the implicit default): `Yes` when no
/// item can be present, `No` when one certainly is, `Maybe` when every item
/// is present only under a condition not known until deployment.
fn add_items(
    candidates: &mut Vec<Candidate>,
    items: Vec<(u32, Resolved)>,
    conditional: bool,
) -> Presence {
    let mut presence = Presence::Yes;
    for (line, item) in items {
        match item.kind {
            V::NoValue => {}
            V::Choice(alternatives) => {
                let mut may_be_absent = false;
                let alternatives = flatten_choices(alternatives);
                if alternatives.iter().all(|a| matches!(a.kind, V::NoValue)) {
                    continue;
                }
                for alternative in alternatives {
                    if matches!(alternative.kind, V::NoValue) {
                        may_be_absent = true;
                    } else {
                        candidates.push(Candidate {
                            line,
                            rule: alternative,
                            conditional: true,
                        });
                    }
                }
                presence = match (presence, may_be_absent) {
                    (Presence::No, _) | (_, false) => Presence::No,
                    _ => Presence::Maybe,
                };
            }
            _ => {
                candidates.push(Candidate {
                    line,
                    rule: item,
                    conditional,
                });
                presence = Presence::No;
            }
        }
    }
    presence
}

/// The alternatives of nested `Fn::If`s, as one list.
fn flatten_choices(alternatives: Vec<Resolved>) -> Vec<Resolved> {
    let mut out = Vec::new();
    let mut stack = alternatives;
    stack.reverse();
    while let Some(alternative) = stack.pop() {
        match alternative.kind {
            V::Choice(inner) => stack.extend(inner.into_iter().rev()),
            _ => out.push(alternative),
        }
    }
    out
}

/// The alternatives of a property at a bound: every alternative at the
/// widest (an unknown as `widest`), a single known value at the narrowest
/// (none otherwise).
fn alternatives(
    value: Option<&Resolved>,
    name: &str,
    width: Width,
    widest: Option<&str>,
    unknowns: &mut Vec<String>,
) -> Option<Vec<Option<String>>> {
    let Some(value) = value else {
        return Some(vec![None]);
    };
    let mut out = Vec::new();
    let mut stack = vec![value];
    let mut single = true;
    let mut unknown = false;
    while let Some(v) = stack.pop() {
        match &v.kind {
            V::Scalar { text, plain } => out.push(Some(if *plain {
                super::node::yaml11_integer(text)
                    .map(|n| n.to_string())
                    .filter(|_| name.ends_with("Port") || name == "IpProtocol")
                    .unwrap_or_else(|| text.clone())
            } else {
                text.clone()
            })),
            V::NoValue | V::Null => out.push(None),
            V::Choice(alternatives) => {
                single = false;
                unknowns.push(format!(
                    "{name} at line {} (Fn::If on a condition not known until deployment)",
                    v.line
                ));
                stack.extend(alternatives.iter());
            }
            V::Unknown(why) => {
                unknown = true;
                unknowns.push(format!("{name} = {why}"));
                out.push(widest.map(str::to_string));
            }
            V::List(_) | V::Map(_) => {
                unknown = true;
                out.push(widest.map(str::to_string));
            }
        }
    }
    out.sort();
    out.dedup();
    match width {
        Width::Widest => Some(out),
        // Alternatives that are all known and all the same are one value.
        Width::Narrowest if !unknown && (single || out.len() == 1) => Some(out),
        Width::Narrowest => None,
    }
}

/// One rule's permissions at a bound.
fn permissions(
    candidate: &Candidate,
    width: Width,
    template: &Template,
    resolver: &Resolver,
    unknowns: &mut Vec<String>,
) -> Result<Vec<EgressPermission>, TemplateError> {
    let rule = &candidate.rule;
    let line = candidate.line;
    if let V::Unknown(_) = rule.kind {
        // A rule not known at all: all traffic anywhere at the widest.
        if width == Width::Narrowest {
            return Ok(Vec::new());
        }
        let mut permission = EgressPermission::new(Protocol::All, None, None).expect("no ports");
        permission.add_cidr("0.0.0.0/0");
        permission.add_cidr("::/0");
        return Ok(vec![permission]);
    }
    let get = |name: &str| rule.get(name);
    let Some(protocols) =
        alternatives(get("IpProtocol"), "IpProtocol", width, Some("-1"), unknowns)
    else {
        return Ok(Vec::new());
    };
    let Some(froms) = alternatives(get("FromPort"), "FromPort", width, Some("-1"), unknowns) else {
        return Ok(Vec::new());
    };
    let Some(tos) = alternatives(get("ToPort"), "ToPort", width, Some("-1"), unknowns) else {
        return Ok(Vec::new());
    };
    // Many alternatives (nested `Fn::If`s written to multiply): the widest
    // is all traffic, which is at least as wide as any of them.
    let (protocols, froms, tos) = if protocols.len() * froms.len() * tos.len() > MAX_ALTERNATIVES {
        (vec![Some("-1".to_string())], vec![None], vec![None])
    } else {
        (protocols, froms, tos)
    };
    let mut destinations: Vec<String> = Vec::new();
    for (name, widest) in [("CidrIp", "0.0.0.0/0"), ("CidrIpv6", "::/0")] {
        if let Some(values) = alternatives(get(name), name, width, Some(widest), unknowns) {
            destinations.extend(values.into_iter().flatten());
        }
    }
    let prefix_list =
        get("DestinationPrefixListId").map(|_| prefix_list_id(candidate, template, resolver));
    let group_reference =
        get("DestinationSecurityGroupId").map(|v| v.text().unwrap_or("(a group)").to_string());
    if destinations.is_empty() && prefix_list.is_none() && group_reference.is_none() {
        // A rule with no destination is no rule.
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for protocol in &protocols {
        let text = protocol
            .as_deref()
            .ok_or_else(|| TemplateError::new(line, "IpProtocol is missing"))?;
        let protocol: Protocol = text
            .parse()
            .map_err(|e| TemplateError::new(line, format!("IpProtocol: {e}")))?;
        for from in &froms {
            for to in &tos {
                let port = |p: &Option<String>, name: &str| -> Result<Option<i64>, TemplateError> {
                    p.as_deref()
                        .map(|t| {
                            t.trim()
                                .parse::<i64>()
                                .or_else(|_| t.trim().parse::<f64>().map(|f| f as i64))
                                .map_err(|_| {
                                    TemplateError::new(line, format!("{name}: {t:?} is not a port"))
                                })
                        })
                        .transpose()
                };
                let mut permission =
                    EgressPermission::new(protocol, port(from, "FromPort")?, port(to, "ToPort")?)
                        .map_err(|e| TemplateError::new(line, e.to_string()))?;
                for destination in &destinations {
                    permission.add_cidr(destination);
                }
                permission.prefix_list_ids.extend(prefix_list.clone());
                permission
                    .referenced_group_ids
                    .extend(group_reference.clone());
                out.push(permission);
            }
        }
    }
    Ok(out)
}

/// A rule's prefix list: a list defined in the template (by its logical
/// id, whose entries are known) or any other (restricted).
fn prefix_list_id(candidate: &Candidate, template: &Template, resolver: &Resolver) -> String {
    let _ = resolver;
    // The raw property tells a list of this template apart.
    let raw = candidate_raw_prefix_list(candidate, template);
    if let Some(id) = raw {
        return id;
    }
    candidate
        .rule
        .get("DestinationPrefixListId")
        .and_then(Resolved::text)
        .unwrap_or("(a prefix list)")
        .to_string()
}

/// The logical id of a template's prefix list a rule names, found in the
/// unresolved template (`Ref` and `GetAtt` resolve to "unknown").
fn candidate_raw_prefix_list(candidate: &Candidate, template: &Template) -> Option<String> {
    let V::Unknown(why) = &candidate.rule.get("DestinationPrefixListId")?.kind else {
        return None;
    };
    let name = why
        .strip_prefix("Ref ")
        .or_else(|| why.strip_prefix("Fn::GetAtt "))?
        .split([' ', '.'])
        .next()?;
    let resource = template.resource(name)?;
    (type_of(resource) == Some(PREFIX_LIST_TYPE)).then(|| name.to_string())
}

/// One template prefix list's entries at both bounds.
#[derive(Default)]
struct ListEntries {
    narrowest: Vec<String>,
    widest: Vec<String>,
    unknowns: Vec<String>,
}

impl ListEntries {
    fn known(&mut self, cidr: &str) {
        self.narrowest.push(cidr.to_string());
        self.widest.push(cidr.to_string());
    }

    /// An entry not known until deployment: absent at the narrowest, the
    /// whole family at the widest.
    fn unknown(&mut self, why: String, whole_family: &[&str]) {
        self.unknowns.push(why);
        self.widest
            .extend(whole_family.iter().map(|c| c.to_string()));
    }
}

/// The properties that name a rule's destination.
const DESTINATIONS: [&str; 4] = [
    "CidrIp",
    "CidrIpv6",
    "DestinationPrefixListId",
    "DestinationSecurityGroupId",
];

/// A note for each egress rule written with no destination, which is no
/// rule (SPEC_TEMPLATES §2): an inline item, or a standalone resource's
/// `Properties`. Only rules written as a mapping are looked at (an `Fn::If`
/// item is judged by its branches).
fn rules_without_destination(resources: &[(super::node::Key, Node)]) -> Vec<String> {
    let no_destination = |rule: &Node| {
        !rule.members().is_empty()
            && !rule
                .members()
                .iter()
                .any(|(k, _)| k.text.starts_with("Fn::"))
            && DESTINATIONS.iter().all(|d| rule.get(d).is_none())
    };
    let mut notes = Vec::new();
    for (key, resource) in resources {
        let properties = resource.get("Properties");
        let rules: Vec<&Node> = match type_of(resource) {
            Some(GROUP_TYPE) => properties
                .and_then(|p| p.get("SecurityGroupEgress"))
                .and_then(Node::elements)
                .map(|items| items.iter().collect())
                .unwrap_or_default(),
            Some(EGRESS_TYPE) => properties.into_iter().collect(),
            _ => Vec::new(),
        };
        for rule in rules.into_iter().filter(|r| no_destination(r)) {
            notes.push(format!(
                "line {}: {}: an egress rule with no destination (none of {}) is no rule, and opens nothing",
                rule.line,
                key.text,
                DESTINATIONS.join(", ")
            ));
        }
    }
    notes
}
