//! The Lambda function AWS Config invokes as a custom rule. Deployed a second
//! time with `SG_EGRESS_MODE=remediation` (and its own role, the only one
//! allowed to revoke egress), it is the remediation the SSM runbook invokes;
//! with `SG_EGRESS_MODE=hook` (and the rule's parameters in
//! `SG_EGRESS_PARAMETERS`), the CloudFormation Lambda Hook that judges
//! groups before they are created. The mode is chosen once, at start.

use lambda_runtime::layers::TracingLayer;
use lambda_runtime::tower::util::MapRequestLayer;
use lambda_runtime::{service_fn, Error, LambdaEvent, LambdaInvocation, Runtime};
use serde_json::value::RawValue;
use sg_egress_rule::aws::{load_sdk_config, Clients, Deadline, RoleClients};
use sg_egress_rule::handler::hook::{handle_hook, HookContext};
use sg_egress_rule::handler::remediation::remediate;
use sg_egress_rule::handler::rule::{handle, RuleContext};
use sg_egress_rule::handler::{unreadable_body, UNREADABLE};

/// Logs as Lambda's logging controls ask (`AWS_LAMBDA_LOG_FORMAT` JSON or
/// text, `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO), like the
/// runtime's default subscriber, with one difference that keeps secrets out
/// of the logs: the level applies to this crate only. Every other crate logs
/// at INFO at most, because below it the runtime logs each raw event (tags
/// and descriptions included) and the SDK the access key ids it signs with.
/// `RUST_LOG` is read as a level, never as per-crate directives, for the
/// same reason.
fn init_logging() {
    use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter};
    use lambda_runtime::tracing::Level;
    let level = setting("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| setting("RUST_LOG"))
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let others = level.min(LevelFilter::from_level(Level::INFO));
    // A default directive given to the builder would be dropped beside
    // another directive: both go in the one string.
    let filter = EnvFilter::builder().parse_lossy(format!("{others},sg_egress_rule={level}"));
    let format = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    if setting("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")) {
        format.json().init();
    } else {
        format.init();
    }
}

/// A setting from the function's environment; unset and empty are the same.
fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// An invocation whose body is not one JSON value, made one that every mode
/// can answer with a reason of its own: `{"sgEgressUnreadableRequest": why}`.
fn readable_body(mut invocation: LambdaInvocation) -> LambdaInvocation {
    if let Some(why) = unreadable_body(&invocation.body) {
        let wrapped = serde_json::json!({ UNREADABLE: why });
        invocation.body = serde_json::to_vec(&wrapped).unwrap_or_default().into();
    }
    invocation
}

/// Runs a handler as `lambda_runtime::run` does, except that a body that is
/// not one JSON value reaches the handler (see [`readable_body`]) instead of
/// being refused by the runtime with a message that names no input.
macro_rules! serve {
    ($handler:expr) => {
        Runtime::new($handler)
            .layer(TracingLayer::new())
            .layer(MapRequestLayer::new(readable_body))
            .run()
            .await
    };
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
    init_logging();
    let mode = setting("SG_EGRESS_MODE").unwrap_or_else(|| "rule".to_string());
    let sdk_config = load_sdk_config(None, None).await;
    let clients = Clients::new(&sdk_config);
    let clients = &clients;
    match mode.as_str() {
        "rule" => {
            let roles = RoleClients::new(&sdk_config);
            let roles = &roles;
            let deployed_role_name = setting("SG_EGRESS_EXECUTION_ROLE_NAME");
            serve!(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
                let context = RuleContext {
                    own: clients,
                    roles,
                    own_account: arn_account(&event.context.invoked_function_arn),
                    deployed_role_name: deployed_role_name.clone(),
                };
                async move {
                    let deadline = Deadline::from_epoch_millis(event.context.deadline);
                    handle(
                        event.payload.get().as_bytes(),
                        &context,
                        chrono::Utc::now(),
                        deadline,
                    )
                    .await
                }
            }))
        }
        "remediation" => {
            let rule_name = setting("SG_EGRESS_RULE_NAME");
            let rule_name = rule_name.as_deref();
            serve!(service_fn(
                move |event: LambdaEvent<Box<RawValue>>| async move {
                    remediate(
                        event.payload.get().as_bytes(),
                        clients,
                        rule_name,
                        chrono::Utc::now(),
                    )
                    .await
                },
            ))
        }
        "hook" => {
            let context = HookContext::new(
                setting("SG_EGRESS_PARAMETERS").as_deref(),
                clients.ec2.clone(),
            );
            if let Err(message) = &context.parameters {
                lambda_runtime::tracing::error!("{message}");
            }
            let context = &context;
            let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
                let deadline = Deadline::from_epoch_millis(event.context.deadline);
                Ok::<_, Error>(
                    handle_hook(
                        event.payload.get().as_bytes(),
                        context,
                        chrono::Utc::now().date_naive(),
                        deadline,
                    )
                    .await,
                )
            });
            // A hook always answers, even a request that is not JSON.
            serve!(handler)
        }
        other => Err(format!(
            "SG_EGRESS_MODE={other:?} is not a mode (expected rule, remediation or hook)"
        )
        .into()),
    }
}
