//! `sg-egress scan`: the sweep the Lambda makes on a schedule, run from a
//! workstation with the default credential chain, printing instead of sending.

use super::{load_sdk_config, Clients};
use crate::handler::sweep;
use crate::verdict::Evaluation;
use crate::Parameters;
use std::io::Write;

/// Sweeps the account and region; returns the evaluations to print.
pub fn run(
    region: Option<String>,
    profile: Option<String>,
    parameters: &Parameters,
    stderr: &mut dyn Write,
) -> Result<Vec<Evaluation>, String> {
    if let Some(role) = &parameters.execution_role_name {
        let _ = writeln!(stderr, "sg-egress: note: ExecutionRoleName {role} is ignored by scan, which uses your own credentials");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let sdk_config = load_sdk_config(region, profile).await;
        if sdk_config.region().is_none() {
            return Err("no AWS region: pass --region or set AWS_REGION".to_string());
        }
        let clients = Clients::new(&sdk_config);
        let now = chrono::Utc::now();
        sweep(&clients, parameters, now, now, super::Deadline::none())
            .await
            .map_err(|e| e.to_string())
    })
}
