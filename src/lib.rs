//! `sg-egress-rule`: an AWS Config custom rule that reports EC2 security
//! groups whose egress opens all traffic, all TCP ports or all UDP ports to the
//! whole IPv4 or IPv6 internet.
//!
//! The decision lives in the pure core crate, [`sg_egress_core`]; this crate
//! is the shell around it (feature `aws`): [`aws`] adapts the SDK clients
//! (paginate, batch, retry, assume roles) and [`handler`] joins core and AWS
//! for the Lambda function and `sg-egress scan`. The binaries are the front
//! ends. Every dependency points down: front ends → shell → core.

pub use sg_egress_core as core;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod handler;
