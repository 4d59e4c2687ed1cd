//! `sg-egress evaluate`: every input shape, from files or stdin, evaluated
//! offline as it is read (a large list is never held whole).

use crate::args::EvaluateArgs;
use crate::options::{
    parse_network, parse_network_interfaces, parse_parameters_option, parse_prefix_lists,
};
use crate::CliError;
use chrono::{DateTime, Utc};
use sg_egress_core::exposure::Network;
use sg_egress_core::model::{GroupsInUse, Resource};
use sg_egress_core::read::{read_into, DocumentContext, NotEvaluated, Sink};
use sg_egress_core::verdict::{evaluate_with_network, Evaluation, KnownPrefixLists};
use sg_egress_core::Parameters;
use std::io::Read;
use std::path::PathBuf;

/// What the inputs gave: the evaluations in input order, and what could
/// not be evaluated offline (for notes).
pub struct Evaluated {
    pub evaluations: Vec<Evaluation>,
    pub notes: Vec<String>,
}

/// Reads every input and evaluates it; any bad input fails the whole run.
pub fn evaluate_inputs(
    args: &EvaluateArgs,
    stdin: &mut dyn Read,
    now: DateTime<Utc>,
) -> Result<Evaluated, CliError> {
    let overriding = parse_parameters_option(&args.common.parameters)?;
    let prefix_lists = parse_prefix_lists(&args.prefix_lists)?;
    let in_use = parse_network_interfaces(&args.network_interfaces)?;
    let network = parse_network(&args.network, &prefix_lists)?;
    let stdin_only = [PathBuf::from("-")];
    let files: &[PathBuf] = if args.files.is_empty() {
        &stdin_only
    } else {
        &args.files
    };
    let mut evaluator = Evaluator {
        overriding: overriding.as_ref(),
        prefix_lists: &prefix_lists,
        in_use: in_use.as_ref(),
        network: network.as_ref(),
        now,
        event_parameters: None,
        evaluations: Vec::new(),
        notes: Vec::new(),
        failure: None,
    };
    for file in files {
        let name = if file.as_os_str() == "-" {
            "stdin".to_string()
        } else {
            file.display().to_string()
        };
        let mut bytes = Vec::new();
        if file.as_os_str() == "-" {
            stdin.read_to_end(&mut bytes)
        } else {
            std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes))
        }
        .map_err(|e| CliError(format!("{name}: {e}")))?;
        let notes_before = evaluator.notes.len();
        read_into(&bytes, &mut evaluator).map_err(|e| CliError(format!("{name}: {e}")))?;
        if let Some(failure) = evaluator.failure.take() {
            return Err(CliError(format!("{name}: {failure}")));
        }
        for note in &mut evaluator.notes[notes_before..] {
            *note = format!("{name}: {note}");
        }
    }
    Ok(Evaluated {
        evaluations: evaluator.evaluations,
        notes: evaluator.notes,
    })
}

/// Evaluates each resource as the reader hands it over.
struct Evaluator<'a> {
    overriding: Option<&'a Parameters>,
    prefix_lists: &'a KnownPrefixLists,
    in_use: Option<&'a GroupsInUse>,
    /// `--network`: exposure is applied when given.
    network: Option<&'a Network>,
    now: DateTime<Utc>,
    /// The last Lambda event's own parameters, read once.
    event_parameters: Option<(String, Parameters)>,
    evaluations: Vec<Evaluation>,
    notes: Vec<String>,
    /// A Lambda event's parameters that cannot be used: the run fails.
    failure: Option<String>,
}

impl Evaluator<'_> {
    /// `--parameters`, else the event's own, else the defaults.
    fn parameters(&mut self, context: &DocumentContext) -> Option<Parameters> {
        if let Some(p) = self.overriding {
            return Some(p.clone());
        }
        let Some(text) = &context.rule_parameters else {
            return Some(Parameters::default());
        };
        if let Some((cached, parameters)) = &self.event_parameters {
            if cached == text {
                return Some(parameters.clone());
            }
        }
        match Parameters::from_json_text(text) {
            Ok(parameters) => {
                self.event_parameters = Some((text.clone(), parameters.clone()));
                Some(parameters)
            }
            Err(e) => {
                self.failure.get_or_insert(e.to_string());
                None
            }
        }
    }
}

impl Sink for Evaluator<'_> {
    /// A Lambda event's parameters are checked even when it holds nothing
    /// to evaluate: a misconfigured rule is an error.
    fn document(&mut self, context: &DocumentContext) {
        self.parameters(context);
    }

    fn resource(&mut self, mut resource: Resource, context: &DocumentContext) {
        let Some(parameters) = self.parameters(context) else {
            return;
        };
        if let (Some(in_use), Some(group)) = (self.in_use, resource.group.as_mut()) {
            in_use.apply(group);
        }
        let fallback = context.notification_time.unwrap_or(self.now);
        self.evaluations.push(evaluate_with_network(
            &resource,
            &parameters,
            self.prefix_lists,
            self.network,
            fallback,
            self.now,
        ));
    }

    fn not_evaluated(&mut self, what: NotEvaluated) {
        self.notes.push(advice(&what));
    }
}

/// What a user can do about something offline evaluation cannot do.
fn advice(what: &NotEvaluated) -> String {
    match what {
        NotEvaluated::Oversized { resource_type, resource_id } => format!(
            "{resource_id}: oversized change notification carries no configuration; fetch it with `aws configservice get-resource-config-history --resource-type {resource_type} --resource-id {resource_id} --limit 1` and evaluate that"
        ),
        NotEvaluated::Scheduled => "scheduled notification: a sweep of every group needs AWS; run `sg-egress scan` for that".to_string(),
        NotEvaluated::NotDetective(mode) => format!(
            "evaluationMode is {mode}: this rule only evaluates in DETECTIVE mode, nothing to report"
        ),
        NotEvaluated::Unprocessed(id) => format!("{id}: listed in unprocessedResourceKeys; request it again"),
    }
}
