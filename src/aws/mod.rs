//! Thin adapters over the AWS SDK clients: paginate, batch, retry, assume the
//! member-account role. No decisions are made here.

pub mod config;
pub mod ec2;
pub mod remediate;
pub mod scan;

use aws_config::{BehaviorVersion, SdkConfig};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// The time by which an invocation must have answered, less a margin for
/// finishing what is under way. Work that would start after it is not started.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<SystemTime>,
}

/// Time kept in reserve before the Lambda deadline: enough for batches under
/// way to finish and for the function to report.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

impl Deadline {
    /// No deadline (the CLI's scan).
    pub fn none() -> Self {
        Deadline { at: None }
    }

    /// The invocation's deadline in epoch milliseconds, as Lambda gives it.
    pub fn from_epoch_millis(millis: u64) -> Self {
        Deadline {
            at: (millis > 0).then(|| UNIX_EPOCH + Duration::from_millis(millis)),
        }
    }

    /// True while new work may still start.
    pub fn allows_new_work(&self) -> bool {
        match self.at {
            None => true,
            Some(at) => at
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > DEADLINE_MARGIN),
        }
    }

    /// An error saying what was done when the deadline stopped the work.
    pub fn check(&self, done: impl FnOnce() -> String) -> Result<(), Error> {
        if self.allows_new_work() {
            Ok(())
        } else {
            Err(Box::new(DeadlineReached(done())))
        }
    }
}

/// Work stopped before the Lambda deadline; the message says what finished.
#[derive(Debug)]
pub struct DeadlineReached(pub String);

impl std::fmt::Display for DeadlineReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped {} s before the Lambda deadline: {}; the invocation fails so that Config retries it", DEADLINE_MARGIN.as_secs(), self.0)
    }
}

impl std::error::Error for DeadlineReached {}

/// Formats an SDK error with its whole chain of causes.
pub(crate) fn describe<E: std::error::Error>(operation: &str, error: E) -> Error {
    format!(
        "{operation} failed: {}",
        aws_sdk_ec2::error::DisplayErrorContext(error)
    )
    .into()
}
