//! STS: which account the caller's credentials belong to.

use super::{describe, Error};
use aws_config::SdkConfig;

/// The account of the credentials in `config` (`GetCallerIdentity` needs no
/// permission).
pub async fn caller_account(config: &SdkConfig) -> Result<String, Error> {
    let response = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| describe("sts:GetCallerIdentity", e))?;
    response
        .account()
        .map(str::to_string)
        .ok_or_else(|| Error::call("sts:GetCallerIdentity", "it returned no account"))
}
