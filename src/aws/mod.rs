//! Thin adapters over the AWS SDK clients: paginate, batch, retry, assume the
//! member-account role. No decisions are made here.

pub mod config;
pub mod ec2;
pub mod remediate;
pub mod scan;

use aws_config::{BehaviorVersion, SdkConfig};

/// Errors of the AWS shell; the message says which call failed and why.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The SDK clients the rule uses, built once per cold start (or per
/// assumed role).
#[derive(Clone, Debug)]
pub struct Clients {
    pub config: aws_sdk_config::Client,
    pub ec2: aws_sdk_ec2::Client,
}

impl Clients {
    pub fn new(sdk_config: &SdkConfig) -> Self {
        Clients {
            config: aws_sdk_config::Client::new(sdk_config),
            ec2: aws_sdk_ec2::Client::new(sdk_config),
        }
    }
}

/// Loads the SDK configuration from the environment (credentials chain,
/// region, `AWS_ENDPOINT_URL*`), optionally with a region and profile.
pub async fn load_sdk_config(region: Option<String>, profile: Option<String>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// An SDK configuration whose credentials come from assuming `role_arn`
/// (organization deployments: the member account's execution role).
pub async fn assume_role(base: &SdkConfig, role_arn: &str) -> SdkConfig {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("sg-egress-rule")
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build()
}

/// Formats an SDK error with its whole chain of causes.
pub(crate) fn describe<E: std::error::Error>(operation: &str, error: E) -> Error {
    format!(
        "{operation} failed: {}",
        aws_sdk_ec2::error::DisplayErrorContext(error)
    )
    .into()
}
