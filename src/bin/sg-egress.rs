//! `sg-egress`: evaluate security groups offline, or scan a live account.

use clap::Parser;
use std::io::IsTerminal;

fn main() {
    let cli = sg_egress_rule::cli::Cli::parse();
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let code = sg_egress_rule::cli::run(
        cli,
        &mut std::io::stdin().lock(),
        &mut stdout.lock(),
        &mut std::io::stderr(),
        color,
    );
    std::process::exit(code);
}
