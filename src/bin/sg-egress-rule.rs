//! The Lambda function AWS Config invokes as a custom rule. Deployed a second
//! time with `SG_EGRESS_MODE=remediation` (and its own role, the only one
//! allowed to revoke egress), it is the remediation the SSM runbook invokes.
//! The mode is chosen once, at start.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sg_egress_rule::aws::{load_sdk_config, Clients, Deadline, RoleClients};
use sg_egress_rule::handler::remediation::remediate;
use sg_egress_rule::handler::rule::{handle, RuleContext};

/// A setting from the function's environment; unset and empty are the same.
fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The account of an ARN (`arn:aws:lambda:us-east-1:123456789012:function:x`).
fn arn_account(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let mode = setting("SG_EGRESS_MODE").unwrap_or_else(|| "rule".to_string());
    let sdk_config = load_sdk_config(None, None).await;
    let clients = Clients::new(&sdk_config);
    let clients = &clients;
    match mode.as_str() {
        "rule" => {
            let roles = RoleClients::new(&sdk_config);
            let roles = &roles;
            let deployed_role_name = setting("SG_EGRESS_EXECUTION_ROLE_NAME");
            run(service_fn(move |event: LambdaEvent<Value>| {
                let context = RuleContext {
                    own: clients,
                    roles,
                    own_account: arn_account(&event.context.invoked_function_arn),
                    deployed_role_name: deployed_role_name.clone(),
                };
                async move {
                    let deadline = Deadline::from_epoch_millis(event.context.deadline);
                    handle(&event.payload, &context, chrono::Utc::now(), deadline).await
                }
            }))
            .await
        }
        "remediation" => {
            let rule_name = setting("SG_EGRESS_RULE_NAME");
            let rule_name = rule_name.as_deref();
            run(service_fn(move |event: LambdaEvent<Value>| async move {
                remediate(&event.payload, clients, rule_name, chrono::Utc::now()).await
            }))
            .await
        }
        other => Err(format!(
            "SG_EGRESS_MODE={other:?} is not a mode (expected rule or remediation)"
        )
        .into()),
    }
}
