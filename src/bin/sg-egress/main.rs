//! `sg-egress`: evaluate security groups offline, or scan a live account.
//!
//! Exit status: 0 when nothing is NON_COMPLIANT, 1 when something is, 2 on bad
//! input or bad parameters (the reason on stderr, nothing on stdout).

mod args;
mod check;
mod evaluate;
mod options;
#[cfg(feature = "aws")]
mod scan;

use args::{Cli, Command, OutputFormat};
use clap::Parser;
use sg_egress_core::report::{write_json, write_table, Place};
use sg_egress_core::verdict::{Compliance, Evaluation};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Nothing is NON_COMPLIANT.
const EXIT_COMPLIANT: u8 = 0;
/// Something is NON_COMPLIANT.
const EXIT_NON_COMPLIANT: u8 = 1;
/// Bad input or bad parameters.
const EXIT_BAD_INPUT: u8 = 2;

/// A failure that ends the run with exit status 2; the message says what
/// is wrong and where.
#[derive(Debug)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a command produced: evaluations to print, and, for a scan that could
/// not read everything, what it left out (said after them; exit 2).
#[derive(Debug, Default)]
pub struct Produced {
    pub evaluations: Vec<Evaluation>,
    /// The account and region of each evaluation, when the run spans several
    /// (a table shows them; JSON keeps the PutEvaluations shape).
    pub places: Option<Vec<Place>>,
    pub notes: Vec<String>,
    pub incomplete: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stderr = std::io::stderr();
    match run(cli, &mut stderr) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(stderr, "sg-egress: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Runs the command: produce, then print, then say what the status is.
fn run(cli: Cli, stderr: &mut dyn Write) -> Result<u8, CliError> {
    match cli.command {
        Command::Check(args) => run_check(&args, stderr),
        Command::Evaluate(args) => {
            let evaluated =
                evaluate::evaluate_inputs(&args, &mut std::io::stdin().lock(), chrono::Utc::now())?;
            let produced = Produced {
                evaluations: evaluated.evaluations,
                notes: evaluated.notes,
                ..Produced::default()
            };
            finish(produced, args.common.output, stderr)
        }
        Command::Scan(args) => finish(scan(&args, stderr)?, args.common.output, stderr),
    }
}

/// Prints what `evaluate` or `scan` produced, its notes, and the status.
fn finish(
    produced: Produced,
    format: OutputFormat,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    print(&produced, format)?;
    for note in &produced.notes {
        let _ = writeln!(stderr, "sg-egress: note: {note}");
    }
    if let Some(message) = produced.incomplete {
        return Err(CliError(message));
    }
    let any_open = produced
        .evaluations
        .iter()
        .any(|e| e.compliance_type == Compliance::NonCompliant);
    Ok(if any_open {
        EXIT_NON_COMPLIANT
    } else {
        EXIT_COMPLIANT
    })
}

/// `check`: templates and plans; exit 1 on NON_COMPLIANT (and, with
/// `--strict`, UNDETERMINED).
fn run_check(args: &args::CheckArgs, stderr: &mut dyn Write) -> Result<u8, CliError> {
    use sg_egress_core::templates::Outcome;
    let checked = check::check(args)?;
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::BufWriter::new(stdout.lock());
    check::print(&checked, args.output, color, &mut out)
        .and_then(|()| out.flush())
        .map_err(|e| CliError(format!("cannot write the output: {e}")))?;
    for note in &checked.notes {
        let _ = writeln!(stderr, "sg-egress: note: {note}");
    }
    let failing =
        |o: Outcome| o == Outcome::NonCompliant || (args.strict && o == Outcome::Undetermined);
    Ok(
        if checked.results.iter().any(|r| failing(r.result.outcome)) {
            EXIT_NON_COMPLIANT
        } else {
            EXIT_COMPLIANT
        },
    )
}

/// Prints the evaluations on stdout.
fn print(produced: &Produced, format: OutputFormat) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match format {
        OutputFormat::Json => write_json(&mut out, &produced.evaluations),
        OutputFormat::Table => write_table(
            &mut out,
            &produced.evaluations,
            produced.places.as_deref(),
            color,
        ),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| CliError(format!("cannot write the output: {e}")))
}

#[cfg(feature = "aws")]
fn scan(args: &args::ScanArgs, stderr: &mut dyn Write) -> Result<Produced, CliError> {
    scan::scan(args, stderr)
}

#[cfg(not(feature = "aws"))]
fn scan(_: &args::ScanArgs, _: &mut dyn Write) -> Result<Produced, CliError> {
    Err(CliError(
        "scan needs AWS support, which this build leaves out; build with the default features (cargo build --bin sg-egress)".to_string(),
    ))
}
