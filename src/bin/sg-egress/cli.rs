//! The `sg-egress` command line: `evaluate` reads files or stdin offline;
//! `scan` (feature `aws`) reads a live account.
//!
//! Exit status: 0 when nothing is NON_COMPLIANT, 1 when something is, 2 on bad
//! input or bad parameters (the reason on stderr, nothing on stdout).

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use sg_egress_core::model::GroupsInUse;
use sg_egress_core::report::{write_json, write_table, Place};
use sg_egress_core::verdict::{Compliance, Evaluation, KnownPrefixLists};
use sg_egress_core::{evaluate_document, read_documents, Parameters};
use std::io::{Read, Write};
use std::path::PathBuf;

pub const EXIT_COMPLIANT: i32 = 0;
pub const EXIT_NON_COMPLIANT: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "sg-egress",
    version,
    about = "Find EC2 security groups whose egress opens all traffic, all TCP or all UDP ports to the whole internet",
    after_help = "Exit status: 0 nothing NON_COMPLIANT, 1 something NON_COMPLIANT, 2 bad input or parameters."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate groups from files or stdin, offline (never calls AWS)
    Evaluate(EvaluateArgs),
    /// Evaluate every group of a live account and region (DescribeSecurityGroups)
    Scan(ScanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A JSON array in the PutEvaluations `Evaluations` shape
    Json,
    /// One line per resource, for people
    Table,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The rule's InputParameters as a JSON object, or @FILE holding one.
    /// Overrides a Lambda event's own ruleParameters.
    #[arg(long, value_name = "JSON")]
    pub parameters: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "json")]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// `aws ec2 describe-network-interfaces` output: a group none of these
    /// interfaces lists is unused (IgnoreUnusedGroups). Without it, a group
    /// counts as used unless its item's relationships prove use. Repeatable.
    #[arg(long = "network-interfaces", value_name = "FILE")]
    pub network_interfaces: Vec<PathBuf>,
    /// Entries of a managed prefix list, which otherwise counts as restricted:
    /// pl-ID=CIDR[,CIDR…] or pl-ID=@FILE (output of
    /// `aws ec2 get-managed-prefix-list-entries`). Repeatable.
    #[arg(long = "prefix-list", value_name = "pl-ID=CIDRS")]
    pub prefix_lists: Vec<String>,
    /// Input files (JSON; several documents in one file are read in turn).
    /// None, or -, reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// AWS region (default: the SDK's usual chain, AWS_REGION, profile…);
    /// with --aggregator, the region the aggregator is in
    #[arg(long, conflicts_with = "regions")]
    pub region: Option<String>,
    /// Several regions of your account, comma-separated, or `all` (every
    /// region enabled for the account, from DescribeRegions)
    #[arg(long, value_name = "R1,R2|all", conflicts_with = "aggregator")]
    pub regions: Option<String>,
    /// Every account and region this AWS Config aggregator holds, through
    /// SelectAggregateResourceConfig (no EC2 calls)
    #[arg(long, value_name = "NAME")]
    pub aggregator: Option<String>,
    /// Named profile from the shared AWS config files
    #[arg(long)]
    pub profile: Option<String>,
}

/// A failure that ends the run with exit status 2.
#[derive(Debug)]
pub struct Failure(pub String);

/// What a command produced: evaluations to print, and, for a scan that could
/// not read everything, what it left out (printed after them; exit 2).
#[derive(Debug, Default)]
pub struct Produced {
    pub evaluations: Vec<Evaluation>,
    /// The account and region of each evaluation, when the run spans several
    /// (a table shows them; JSON keeps the PutEvaluations shape).
    pub places: Option<Vec<Place>>,
    pub incomplete: Option<String>,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// Runs the command line; returns the exit status.
pub fn run(
    cli: Cli,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    color: bool,
) -> i32 {
    let now = Utc::now();
    let result = match cli.command {
        Command::Evaluate(args) => evaluate_inputs(&args, stdin, stderr, now).map(|evaluations| {
            (
                Produced {
                    evaluations,
                    places: None,
                    incomplete: None,
                },
                args.common.output,
            )
        }),
        Command::Scan(args) => scan(&args, stderr).map(|p| (p, args.common.output)),
    };
    match result {
        Ok((produced, format)) => {
            let evaluations = produced.evaluations;
            let written = match format {
                OutputFormat::Json => write_json(stdout, &evaluations),
                OutputFormat::Table => {
                    write_table(stdout, &evaluations, produced.places.as_deref(), color)
                }
            };
            if let Err(e) = written.and_then(|_| stdout.flush()) {
                let _ = writeln!(stderr, "sg-egress: cannot write the output: {e}");
                return EXIT_BAD_INPUT;
            }
            if let Some(message) = produced.incomplete {
                let _ = writeln!(stderr, "sg-egress: {message}");
                return EXIT_BAD_INPUT;
            }
            if evaluations
                .iter()
                .any(|e| e.compliance_type == Compliance::NonCompliant)
            {
                EXIT_NON_COMPLIANT
            } else {
                EXIT_COMPLIANT
            }
        }
        Err(Failure(message)) => {
            let _ = writeln!(stderr, "sg-egress: {message}");
            EXIT_BAD_INPUT
        }
    }
}

/// What `scan`'s options ask for.
#[cfg(feature = "aws")]
fn scan_scope(args: &ScanArgs) -> Result<sg_egress_rule::handler::scan::Scope, Failure> {
    use sg_egress_rule::handler::scan::Scope;
    Ok(match (&args.aggregator, &args.regions) {
        (Some(name), _) => Scope::Aggregator {
            name: name.clone(),
            region: args.region.clone(),
        },
        (None, Some(list)) if list.trim().eq_ignore_ascii_case("all") => Scope::AllRegions,
        (None, Some(list)) => {
            let regions: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect();
            if let Some(bad) = regions.iter().find(|r| {
                !r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }) {
                return Err(Failure(format!(
                    "--regions: {bad:?} is not a region name (e.g. us-east-1,eu-west-1, or all)"
                )));
            }
            if regions.is_empty() {
                return Err(Failure(
                    "--regions: no region given (e.g. us-east-1,eu-west-1, or all)".to_string(),
                ));
            }
            Scope::Regions(regions)
        }
        (None, None) => Scope::Region(args.region.clone()),
    })
}

#[cfg(feature = "aws")]
fn scan(args: &ScanArgs, stderr: &mut dyn Write) -> Result<Produced, Failure> {
    use std::io::IsTerminal;
    let parameters = parse_parameters_option(&args.common.parameters)?.unwrap_or_default();
    let scope = scan_scope(args)?;
    let spans_places = !matches!(scope, sg_egress_rule::handler::scan::Scope::Region(_));
    let progress = std::io::stderr().is_terminal();
    let scanned = sg_egress_rule::handler::scan::run(
        scope,
        args.profile.clone(),
        &parameters,
        stderr,
        progress,
    )
    .map_err(Failure)?;
    for note in &scanned.notes {
        let _ = writeln!(stderr, "sg-egress: note: {note}");
    }
    let incomplete = (!scanned.left_out.is_empty()).then(|| {
        format!(
            "{} groups could not be evaluated: {}",
            scanned.left_out.len(),
            scanned
                .left_out
                .iter()
                .map(|(id, why)| format!("{id} ({why})"))
                .collect::<Vec<_>>()
                .join("; ")
        )
    });
    let places = spans_places.then(|| {
        scanned
            .rows
            .iter()
            .map(|r| Place {
                account: r.account.clone(),
                region: r.region.clone(),
            })
            .collect()
    });
    Ok(Produced {
        evaluations: scanned.rows.into_iter().map(|r| r.evaluation).collect(),
        places,
        incomplete,
    })
}

#[cfg(not(feature = "aws"))]
fn scan(_args: &ScanArgs, _stderr: &mut dyn Write) -> Result<Produced, Failure> {
    Err(Failure(
        "scan needs AWS support, which this build leaves out; build with the default features (cargo build --bin sg-egress)".to_string(),
    ))
}

/// Reads `--parameters`: inline JSON or @FILE.
pub fn parse_parameters_option(option: &Option<String>) -> Result<Option<Parameters>, Failure> {
    let Some(text) = option else { return Ok(None) };
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure(format!("--parameters {text}: {e}")))?,
        None => text.clone(),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure(format!("--parameters: not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Failure(
            "--parameters: expected a JSON object such as {\"CheckIpv6\": \"false\"}".to_string(),
        ));
    }
    Ok(Some(Parameters::from_value(&value)?))
}

fn parse_prefix_lists(options: &[String]) -> Result<KnownPrefixLists, Failure> {
    let mut lists = KnownPrefixLists::new();
    for option in options {
        let (id, entries) = option.split_once('=').ok_or_else(|| {
            Failure(format!(
                "--prefix-list {option:?}: expected pl-ID=CIDR[,CIDR…] or pl-ID=@FILE"
            ))
        })?;
        if !id.starts_with("pl-") {
            return Err(Failure(format!(
                "--prefix-list {option:?}: {id:?} is not a prefix list id (pl-…)"
            )));
        }
        let cidrs: Vec<String> = match entries.strip_prefix('@') {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Failure(format!("--prefix-list {id}: {path}: {e}")))?;
                let value: Value = serde_json::from_str(&text).map_err(|e| {
                    Failure(format!("--prefix-list {id}: {path}: not valid JSON: {e}"))
                })?;
                let entries = value
                    .get("Entries")
                    .and_then(Value::as_array)
                    .ok_or_else(|| Failure(format!("--prefix-list {id}: {path}: expected {{\"Entries\": [{{\"Cidr\": …}}]}}")))?;
                entries
                    .iter()
                    .map(|e| {
                        e.get("Cidr")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .ok_or_else(|| {
                                Failure(format!(
                                    "--prefix-list {id}: {path}: an entry has no Cidr string"
                                ))
                            })
                    })
                    .collect::<Result<_, _>>()?
            }
            None => entries
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        };
        lists
            .insert(id, &cidrs)
            .map_err(|e| Failure(format!("--prefix-list: {e}")))?;
    }
    Ok(lists)
}

/// Reads `--network-interfaces` files; `None` when none is given (usage
/// then comes from relationships alone).
fn parse_network_interfaces(files: &[PathBuf]) -> Result<Option<GroupsInUse>, Failure> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut in_use = GroupsInUse::new();
    for file in files {
        let name = format!("--network-interfaces {}", file.display());
        let text = std::fs::read_to_string(file).map_err(|e| Failure(format!("{name}: {e}")))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Failure(format!("{name}: not valid JSON: {e}")))?;
        sg_egress_core::sources::network_interfaces::read_network_interfaces(
            &value,
            "",
            &mut in_use,
        )
        .map_err(|e| Failure(format!("{name}: {e}")))?;
    }
    Ok(Some(in_use))
}

/// Reads every input and evaluates it; any bad input fails the whole run.
fn evaluate_inputs(
    args: &EvaluateArgs,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
    now: DateTime<Utc>,
) -> Result<Vec<Evaluation>, Failure> {
    let overriding = parse_parameters_option(&args.common.parameters)?;
    let prefix_lists = parse_prefix_lists(&args.prefix_lists)?;
    let in_use = parse_network_interfaces(&args.network_interfaces)?;
    let stdin_only = [PathBuf::from("-")];
    let files: &[PathBuf] = if args.files.is_empty() {
        &stdin_only
    } else {
        &args.files
    };
    let mut evaluations = Vec::new();
    let mut notes = Vec::new();
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
        .map_err(|e| Failure(format!("{name}: {e}")))?;
        for mut document in read_documents(&bytes).map_err(|e| Failure(format!("{name}: {e}")))? {
            if let Some(in_use) = &in_use {
                for group in document
                    .resources
                    .iter_mut()
                    .filter_map(|r| r.group.as_mut())
                {
                    in_use.apply(group);
                }
            }
            let parameters = match (&overriding, &document.rule_parameters) {
                (Some(p), _) => p.clone(),
                (None, Some(text)) => {
                    Parameters::from_json_text(text).map_err(|e| Failure(format!("{name}: {e}")))?
                }
                (None, None) => Parameters::default(),
            };
            evaluations.extend(evaluate_document(
                &document,
                &parameters,
                &prefix_lists,
                now,
            ));
            notes.extend(
                document
                    .not_evaluated
                    .iter()
                    .map(|n| format!("{name}: {n}")),
            );
        }
    }
    for note in notes {
        let _ = writeln!(stderr, "sg-egress: note: {note}");
    }
    Ok(evaluations)
}
