//! Thin adapters over the AWS SDK clients: paginate, batch, retry, assume the
//! member-account role. No decisions are made here.

pub mod aggregator;
pub mod config;
pub mod ec2;
pub mod ec2_sdk;
pub mod network;
pub mod payload;
pub mod remediate;
pub mod sts;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What went wrong talking to AWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A call still failed after the SDK's retries, or answered what cannot
    /// be used; the message names the operation.
    #[error("{operation} failed: {message}")]
    Call { operation: String, message: String },
    /// Work stopped before the Lambda deadline; the message says what finished.
    #[error("stopped {margin} s before the Lambda deadline: {0}; the invocation fails so that Config retries it", margin = DEADLINE_MARGIN.as_secs())]
    Deadline(String),
}

impl Error {
    /// A call's failure, for `operation` (`ec2:DescribeSecurityGroups`).
    pub fn call(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Call {
            operation: operation.into(),
            message: message.into(),
        }
    }
}

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

/// Attempts per AWS call (the first and the retries). The SDK's standard
/// mode allows 3; a sweep of 20,000 groups makes hundreds of calls, and with
/// 10% of them throttled three attempts would fail about one sweep in ten
/// for nothing. Backoff stays the SDK's (exponential with jitter, at most
/// 20 s), and its retry quota still stops retry storms.
pub const MAX_ATTEMPTS: u32 = 8;

/// Loads the SDK configuration from the environment (credentials chain,
/// region, `AWS_ENDPOINT_URL*`), optionally with a region and profile.
pub async fn load_sdk_config(region: Option<String>, profile: Option<String>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// Assumed credentials are renewed once they are this close to expiry.
pub const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Credentials from assuming one role, kept until they near expiry, shared
/// by every client built on them (each SDK client would otherwise assume
/// the role for itself).
#[derive(Debug, Clone)]
struct CachedRoleCredentials {
    provider: Arc<aws_config::sts::AssumeRoleProvider>,
    cached: Arc<tokio::sync::Mutex<Option<Credentials>>>,
}

impl CachedRoleCredentials {
    async fn get(&self) -> aws_credential_types::provider::Result {
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            let fresh = credentials.expiry().is_none_or(|expiry| {
                expiry
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > CREDENTIALS_REFRESH_MARGIN)
            });
            if fresh {
                return Ok(credentials.clone());
            }
        }
        let credentials = self.provider.provide_credentials().await?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

impl ProvideCredentials for CachedRoleCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

/// The clients of each member account's execution role, one entry per role
/// ARN, kept for the life of the execution environment: a new rule's first
/// evaluations (one change event per group) assume each role once, not once
/// per event.
#[derive(Debug)]
pub struct RoleClients {
    base: SdkConfig,
    by_role: Mutex<HashMap<String, Clients>>,
}

impl RoleClients {
    pub fn new(base: &SdkConfig) -> Self {
        RoleClients {
            base: base.clone(),
            by_role: Mutex::new(HashMap::new()),
        }
    }

    /// Clients whose calls carry the credentials of `role_arn`.
    pub async fn for_role(&self, role_arn: &str) -> Clients {
        if let Some(clients) = self.lock().get(role_arn) {
            return clients.clone();
        }
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name("sg-egress-rule")
            .configure(&self.base)
            .build()
            .await;
        let credentials = CachedRoleCredentials {
            provider: Arc::new(provider),
            cached: Arc::default(),
        };
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        let clients = Clients::new(&config);
        self.lock()
            .entry(role_arn.to_string())
            .or_insert(clients)
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Clients>> {
        // A panic while holding the lock leaves the map whole; keep using it.
        self.by_role.lock().unwrap_or_else(|e| e.into_inner())
    }
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

    /// The time left before the deadline and its margin (`None`: no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.at.map(|at| {
            at.duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(DEADLINE_MARGIN)
        })
    }

    /// An error saying what was done when the deadline stopped the work.
    pub fn check(&self, done: impl FnOnce() -> String) -> Result<(), Error> {
        if self.allows_new_work() {
            Ok(())
        } else {
            Err(Error::Deadline(done()))
        }
    }
}

/// An SDK error with its whole chain of causes, for `operation`.
pub(crate) fn describe<E: std::error::Error>(operation: &str, error: E) -> Error {
    Error::call(
        operation,
        aws_sdk_ec2::error::DisplayErrorContext(error).to_string(),
    )
}
