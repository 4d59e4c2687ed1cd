//! The same decision before deployment (SPEC_TEMPLATES.md): CloudFormation
//! templates (JSON and YAML, also as CDK writes them) and Terraform plans
//! become the same security-group model, judged by the same
//! [`judge`](crate::verdict::judge), with the same parameters, exemption
//! tag and words.
//!
//! A value not known until deployment is never guessed: each group is
//! judged twice, with every unknown at its widest and at its narrowest
//! ([`Bounds`]). Opening more never closes a group, so NON_COMPLIANT at the
//! narrowest means open whatever is deployed, COMPLIANT at the widest means
//! closed whatever is deployed, and anything between is UNDETERMINED, naming
//! the inputs it depends on.

pub mod assembly;
pub mod cloudformation;
pub mod json;
pub mod node;
pub mod resolve;
pub mod sarif;
pub mod terraform;
pub mod yaml;

use crate::model::{EgressPermission, KnownPrefixLists, SecurityGroup};
use crate::params::Parameters;
use crate::verdict::{judge, Compliance, Verdict};
use chrono::NaiveDate;
pub use node::TemplateError;
use std::collections::BTreeMap;

/// What a check decided for one group (or unlinked standalone rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    NonCompliant,
    Undetermined,
    /// Not evaluated: the template is not final (a `Transform`).
    NotEvaluated,
    Compliant,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NonCompliant => "NON_COMPLIANT",
            Outcome::Undetermined => "UNDETERMINED",
            Outcome::NotEvaluated => "NOT_EVALUATED",
            Outcome::Compliant => "COMPLIANT",
        }
    }
}

/// What opens a group, for the SARIF rule of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    AllTraffic,
    AllTcpPorts,
    AllUdpPorts,
    /// The implicit default egress CloudFormation adds.
    ImplicitDefault,
    /// Open in some deployments, closed in others.
    Undetermined,
    /// A template that is not final.
    NotEvaluated,
    /// Nothing opens it.
    Closed,
}

/// One result: what the check decided, where, and in the rule's words.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// The logical id (CloudFormation) or the address (Terraform).
    pub resource: String,
    pub resource_type: String,
    /// `Metadata."aws:cdk:path"`, when the template was written by the CDK.
    pub construct_path: Option<String>,
    pub outcome: Outcome,
    pub kind: Kind,
    /// The annotation of SPEC.md §3 (and the inputs an UNDETERMINED
    /// outcome depends on).
    pub annotation: Option<String>,
    /// An exempt group's reason (the exemption's words).
    pub exemption: Option<String>,
    /// The 1-based line of what opens the group (SPEC_TEMPLATES §4).
    pub line: u32,
    /// Other lines that open it together with `line`.
    pub related_lines: Vec<u32>,
}

/// A group as a template gives it, at one bound.
#[derive(Debug, Clone)]
pub struct Bound {
    pub group: SecurityGroup,
    /// The line of each permission of `group.egress`, in order.
    pub lines: Vec<u32>,
    /// The permission that is the implicit default egress, if there is one.
    pub implicit_default: Option<usize>,
}

/// A group at its widest and at its narrowest.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub resource: String,
    pub resource_type: String,
    pub construct_path: Option<String>,
    /// The line of the group's own key (its logical id) or object.
    pub line: u32,
    pub widest: Option<Bound>,
    /// `None` when the group may not exist at all (a condition not known).
    pub narrowest: Option<Bound>,
    /// The inputs not known until deployment that the bounds depend on.
    pub unknowns: Vec<String>,
    /// Template parameters whose defaults were assumed.
    pub defaults: Vec<(String, String)>,
    /// Template parameters with `AllowedValues` and no default, and the
    /// allowed value this evaluation tried.
    pub tried: Vec<(String, String)>,
    /// When the resource exists only under conditions not known until
    /// deployment: those conditions (the outcome holds where it exists).
    pub created_only_when: Option<String>,
    /// Which assignment of the parameters these bounds were found under:
    /// the index of its [`TemplateLists`].
    pub assignment: usize,
}

/// The prefix lists a template defines (`AWS::EC2::PrefixList`, by logical
/// id), under one assignment of its parameters, at both bounds: an entry
/// not known until deployment is the whole address family at the widest
/// and absent at the narrowest.
#[derive(Debug, Clone, Default)]
pub struct TemplateLists {
    pub narrowest: KnownPrefixLists,
    pub widest: KnownPrefixLists,
    /// For each list with entries not known until deployment: why.
    pub unknowns: BTreeMap<String, Vec<String>>,
}

/// What a check needs besides the template: the rule's parameters, the
/// template's own parameter values, and the day (for dated exemptions).
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub parameters: Parameters,
    pub template_parameters: BTreeMap<String, String>,
    pub today: NaiveDate,
    /// Whether a parameter with no given value takes its `Default` (said in
    /// the annotation). The stack hook sets this false: the deployment's
    /// values are not in AWS's payload, and a default assumed there could
    /// refuse a stack deployed with other values.
    pub assume_defaults: bool,
    /// Entries of prefix lists outside the template (`pl-…`), already read
    /// (the hook, when `ResolvePrefixLists` is true); any other such list is
    /// a restricted destination (SPEC_TEMPLATES §2).
    pub prefix_lists: KnownPrefixLists,
    /// Groups outside the template, already read (the hook, for a
    /// standalone rule's `GroupId`): a rule judged on its own takes its
    /// group's VPC and tags, so the group's exemptions hold for it.
    pub known_groups: BTreeMap<String, SecurityGroup>,
}

/// The verdicts of one group over every way it can be deployed: the
/// outcome of SPEC_TEMPLATES §3 from the bounds of each assignment of the
/// enumerated parameters.
pub fn decide(
    all_bounds: &[Bounds],
    lists: &[TemplateLists],
    options: &CheckOptions,
) -> CheckResult {
    let first = &all_bounds[0];
    let no_lists = TemplateLists::default();
    let lists_of = |b: &Bounds| lists.get(b.assignment).unwrap_or(&no_lists);
    let judge_bound = |bound: &Bound, prefix_lists: &KnownPrefixLists| {
        judge(
            &bound.group,
            &options.parameters,
            prefix_lists,
            options.today,
        )
    };
    let narrow: Vec<Option<(Verdict, &Bound)>> = all_bounds
        .iter()
        .map(|b| {
            b.narrowest
                .as_ref()
                .map(|n| (judge_bound(n, &lists_of(b).narrowest), n))
        })
        .collect();
    let wide: Vec<Option<(Verdict, &Bound)>> = all_bounds
        .iter()
        .map(|b| {
            b.widest
                .as_ref()
                .map(|w| (judge_bound(w, &lists_of(b).widest), w))
        })
        .collect();
    let always_open = narrow.iter().all(|n| {
        n.as_ref()
            .is_some_and(|(v, _)| v.compliance == Compliance::NonCompliant)
    });
    let always_closed = wide.iter().all(|w| {
        w.as_ref()
            .is_none_or(|(v, _)| v.compliance != Compliance::NonCompliant)
    });
    let mut defaults: Vec<(String, String)> =
        all_bounds.iter().flat_map(|b| b.defaults.clone()).collect();
    defaults.sort();
    defaults.dedup();
    let assumption = (!defaults.is_empty()).then(|| {
        let list: Vec<String> = defaults
            .iter()
            .map(|(k, v)| format!("{k} = {v:?}"))
            .collect();
        format!("assumes the default {}", list.join(", "))
    });
    let mut result = CheckResult {
        resource: first.resource.clone(),
        resource_type: first.resource_type.clone(),
        construct_path: first.construct_path.clone(),
        outcome: Outcome::Compliant,
        kind: Kind::Closed,
        annotation: None,
        exemption: None,
        line: first.line,
        related_lines: Vec::new(),
    };
    let (source, outcome) = if always_open {
        (narrow.iter().flatten().next(), Outcome::NonCompliant)
    } else if always_closed {
        (wide.iter().flatten().next(), Outcome::Compliant)
    } else {
        let open = wide
            .iter()
            .flatten()
            .find(|(v, _)| v.compliance == Compliance::NonCompliant);
        (open, Outcome::Undetermined)
    };
    result.outcome = outcome;
    if let Some((verdict, bound)) = source {
        locate(&mut result, verdict, bound);
        result.annotation = verdict.annotation.clone();
        if outcome == Outcome::Compliant && !verdict.findings.is_empty() {
            // Open but exempt: the exemption's words.
            result.exemption = verdict.annotation.clone();
        }
    }
    if outcome == Outcome::Undetermined {
        result.kind = Kind::Undetermined;
        let mut unknowns: Vec<String> =
            all_bounds.iter().flat_map(|b| b.unknowns.clone()).collect();
        // The entries of the template's prefix lists the group names.
        for b in all_bounds {
            let named = b.widest.iter().flat_map(|w| &w.group.egress);
            for id in named.flat_map(|p| &p.prefix_list_ids) {
                for why in lists_of(b).unknowns.get(id).into_iter().flatten() {
                    unknowns.push(format!("an entry of {id} ({why})"));
                }
            }
        }
        unknowns.extend(tried_values(all_bounds, &wide));
        unknowns.sort();
        unknowns.dedup();
        let depends = if unknowns.is_empty() {
            "values not known until deployment".to_string()
        } else {
            unknowns.join("; ")
        };
        let open = result.annotation.take().unwrap_or_default();
        result.annotation = Some(format!(
            "open in some deployments ({open}), depending on {depends}"
        ));
    }
    if outcome == Outcome::NonCompliant {
        if let Some(conditions) = all_bounds.iter().find_map(|b| b.created_only_when.as_ref()) {
            let created = format!("where it is created, which depends on {conditions}");
            result.annotation = Some(match result.annotation.take() {
                Some(a) => format!("{a}; {created}"),
                None => created,
            });
        }
    }
    if let Some(note) = assumption {
        result.annotation = Some(match result.annotation.take() {
            Some(a) => format!("{a}; {note}"),
            None => note,
        });
    }
    result.annotation = result
        .annotation
        .and_then(|a| crate::verdict::fit_annotation(&a));
    result
}

/// For parameters with `AllowedValues` and no default: which choices
/// leave the group open (`Env = one of its AllowedValues; open with "dev"`).
fn tried_values(all_bounds: &[Bounds], wide: &[Option<(Verdict, &Bound)>]) -> Vec<String> {
    let mut names: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (bounds, wide) in all_bounds.iter().zip(wide) {
        let open = wide
            .as_ref()
            .is_some_and(|(v, _)| v.compliance == Compliance::NonCompliant);
        for (name, value) in &bounds.tried {
            let (opening, closing) = names.entry(name).or_default();
            let list = if open { opening } else { closing };
            if !list.contains(&value.as_str()) {
                list.push(value);
            }
        }
    }
    names
        .into_iter()
        .filter(|(_, (opening, closing))| !opening.is_empty() && !closing.is_empty())
        .map(|(name, (opening, _))| {
            let values: Vec<String> = opening.iter().map(|v| format!("{v:?}")).collect();
            format!(
                "Ref {name} (no value given; one of its AllowedValues, open with {})",
                values.join(" or ")
            )
        })
        .collect()
}

/// Points a result at what opens the group: the permission that opens it
/// (the first of several that open it together, the others related), or
/// the group itself for the implicit default.
fn locate(result: &mut CheckResult, verdict: &Verdict, bound: &Bound) {
    let Some(finding) = verdict.findings.first() else {
        return;
    };
    result.kind = match finding.opening {
        crate::verdict::Opening::AllTraffic => Kind::AllTraffic,
        crate::verdict::Opening::AllTcpPorts => Kind::AllTcpPorts,
        crate::verdict::Opening::AllUdpPorts => Kind::AllUdpPorts,
    };
    let mut opening: Vec<usize> = if finding.permissions.is_empty() {
        // Several narrower rules together: every rule of that family that
        // allows the opening's protocol.
        (0..bound.group.egress.len())
            .filter(|&i| contributes(&bound.group.egress[i], finding))
            .collect()
    } else {
        finding.permissions.clone()
    };
    opening.sort_by_key(|&i| bound.lines[i]);
    if opening.len() == 1 && Some(opening[0]) == bound.implicit_default {
        result.kind = Kind::ImplicitDefault;
        return;
    }
    let mut lines: Vec<u32> = opening
        .iter()
        .filter(|&&i| Some(i) != bound.implicit_default)
        .map(|&i| bound.lines[i])
        .collect();
    lines.dedup();
    if let Some((&first, rest)) = lines.split_first() {
        result.line = first;
        result.related_lines = rest.to_vec();
    }
}

/// Whether a permission is one of those that open a group together.
fn contributes(permission: &EgressPermission, finding: &crate::verdict::Finding) -> bool {
    use crate::model::Protocol;
    let protocol_matches = match finding.opening {
        crate::verdict::Opening::AllTraffic => permission.protocol == Protocol::All,
        crate::verdict::Opening::AllTcpPorts => permission.ports_for(Protocol::Tcp).is_some(),
        crate::verdict::Opening::AllUdpPorts => permission.ports_for(Protocol::Udp).is_some(),
    };
    protocol_matches
        && permission
            .cidrs
            .iter()
            .any(|c| c.block.is_some_and(|b| b.family == finding.family))
}

/// What a file holds, read by its content.
pub enum Document {
    /// A CloudFormation template.
    Template(node::Node),
    /// A Terraform plan.
    Plan(node::Node),
    /// A cloud assembly's `manifest.json`.
    Manifest(node::Node),
}

/// Reads a file: JSON when it starts with `{` (after white space), else
/// YAML; then tells a template, a plan and a manifest apart by their keys.
pub fn read_document(bytes: &[u8]) -> Result<Document, TemplateError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        TemplateError::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            format!("not UTF-8 text: {e}"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = if text.trim_start().starts_with('{') {
        json::read_json(text)?
    } else {
        yaml::read_yaml(text)?
    };
    if terraform::is_plan(&root) {
        Ok(Document::Plan(root))
    } else if cloudformation::is_template(&root) {
        Ok(Document::Template(root))
    } else if assembly::is_manifest(&root) {
        Ok(Document::Manifest(root))
    } else {
        Err(TemplateError::new(
            root.line,
            "neither a CloudFormation template (no Resources), a Terraform plan (terraform show -json) nor a cloud assembly manifest",
        ))
    }
}
