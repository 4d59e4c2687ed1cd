//! The Lambda function AWS Config invokes as a custom rule.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sg_egress_rule::aws::{load_sdk_config, Clients};
use sg_egress_rule::handler::handle;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let sdk_config = load_sdk_config(None, None).await;
    let clients = Clients::new(&sdk_config);
    let (sdk_config, clients) = (&sdk_config, &clients);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(&event.payload, sdk_config, clients, chrono::Utc::now()).await
    }))
    .await
}
