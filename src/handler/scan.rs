//! `sg-egress scan`: the sweep the Lambda makes on a schedule, run from a
//! workstation with the default credential chain, printing instead of sending.

use super::sweep::sweep;
use crate::aws::sts::caller_account;
use crate::aws::{load_sdk_config, Clients, Deadline};
use crate::verdict::Evaluation;
use crate::Parameters;
use std::io::Write;

/// What a scan found: the evaluations, and the groups it could not evaluate.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub evaluations: Vec<Evaluation>,
    pub left_out: Vec<(String, String)>,
}

/// Sweeps the groups the caller's account owns in the region.
pub fn run(
    region: Option<String>,
    profile: Option<String>,
    parameters: &Parameters,
    stderr: &mut dyn Write,
) -> Result<ScanResult, String> {
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
        let account = caller_account(&sdk_config)
            .await
            .map_err(|e| e.to_string())?;
        let clients = Clients::new(&sdk_config);
        let now = chrono::Utc::now();
        let swept = sweep(
            &clients,
            parameters,
            Some(&account),
            now,
            now,
            Deadline::none(),
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok(ScanResult {
            evaluations: swept.evaluations,
            left_out: swept.left_out,
        })
    })
}
