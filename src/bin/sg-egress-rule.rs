//! The Lambda function AWS Config invokes as a custom rule. Deployed a second
//! time with `SG_EGRESS_MODE=remediation` (and its own role, the only one
//! allowed to revoke egress), it is the remediation the SSM runbook invokes.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sg_egress_rule::aws::{load_sdk_config, Clients, Deadline};
use sg_egress_rule::handler::{handle, remediate};
use sg_egress_rule::Parameters;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let mode = std::env::var("SG_EGRESS_MODE").unwrap_or_default();
    let sdk_config = load_sdk_config(None, None).await;
    let clients = Clients::new(&sdk_config);
    let (sdk_config, clients) = (&sdk_config, &clients);
    match mode.as_str() {
        "" | "rule" => {
            run(service_fn(move |event: LambdaEvent<Value>| async move {
                let deadline = Deadline::from_epoch_millis(event.context.deadline);
                handle(
                    &event.payload,
                    sdk_config,
                    clients,
                    chrono::Utc::now(),
                    deadline,
                )
                .await
            }))
            .await
        }
        "remediation" => {
            // The rule's own parameters, so that remediation judges as the rule does.
            let parameters = Parameters::from_json_text(
                &std::env::var("SG_EGRESS_RULE_PARAMETERS").unwrap_or_default(),
            )?;
            let parameters = &parameters;
            run(service_fn(move |event: LambdaEvent<Value>| async move {
                remediate(&event.payload, clients, parameters, chrono::Utc::now()).await
            }))
            .await
        }
        other => Err(format!(
            "SG_EGRESS_MODE={other:?} is not a mode (expected rule or remediation)"
        )
        .into()),
    }
}
