//! `sg-egress`: evaluate security groups offline, or scan a live account.

mod cli;

use clap::Parser;
use std::io::IsTerminal;

fn main() {
    let cli = cli::Cli::parse();
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let code = cli::run(
        cli,
        &mut std::io::stdin().lock(),
        &mut std::io::BufWriter::new(stdout.lock()),
        &mut std::io::stderr(),
        color,
    );
    std::process::exit(code);
}
