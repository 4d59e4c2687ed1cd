//! The command line's arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sg-egress",
    version,
    about = "Find EC2 security groups whose egress opens all traffic, all TCP or all UDP ports to the whole internet",
    after_help = "Exit status: 0 nothing NON_COMPLIANT, 1 something NON_COMPLIANT, 2 bad input or parameters."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate groups from files or stdin, offline (never calls AWS)
    Evaluate(EvaluateArgs),
    /// Evaluate every group of a live account and region (DescribeSecurityGroups)
    Scan(ScanArgs),
    /// Check CloudFormation templates (JSON, YAML), CDK cloud assemblies
    /// (cdk.out) and Terraform plans (terraform show -json) before deployment
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckOutput {
    /// One line per group, for people
    Table,
    /// A JSON array of results
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub and others)
    Sarif,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rule's InputParameters as a JSON object, or @FILE holding one
    /// (the exemptions and CheckIpv6 apply as at run time)
    #[arg(long, value_name = "JSON")]
    pub parameters: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub output: CheckOutput,
    /// Exit 1 when a group is UNDETERMINED too (open in some deployments)
    #[arg(long)]
    pub strict: bool,
    /// A template parameter's value, KEY=VALUE (repeatable; wins over the
    /// file and over the template's Default)
    #[arg(long = "template-parameter", value_name = "KEY=VALUE")]
    pub template_parameter: Vec<String>,
    /// Template parameter values: a JSON object {"Key": "Value"}, or the
    /// CloudFormation CLI's list [{"ParameterKey": …, "ParameterValue": …}]
    #[arg(long = "template-parameters", value_name = "FILE")]
    pub template_parameters: Option<PathBuf>,
    /// Templates, plans, cdk.out directories, or directories to search
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A JSON array in the PutEvaluations `Evaluations` shape
    Json,
    /// One line per resource, for people
    Table,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The rule's InputParameters as a JSON object, or @FILE holding one.
    /// Overrides a Lambda event's own ruleParameters.
    #[arg(long, value_name = "JSON")]
    pub parameters: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "json")]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// `aws ec2 describe-network-interfaces` output: a group none of these
    /// interfaces lists is unused (IgnoreUnusedGroups). Without it, a group
    /// counts as used unless its item's relationships prove use. Repeatable.
    #[arg(long = "network-interfaces", value_name = "FILE")]
    pub network_interfaces: Vec<PathBuf>,
    /// Entries of a managed prefix list, which otherwise counts as restricted:
    /// pl-ID=CIDR[,CIDR…] or pl-ID=@FILE (output of
    /// `aws ec2 get-managed-prefix-list-entries`). Repeatable.
    #[arg(long = "prefix-list", value_name = "pl-ID=CIDRS")]
    pub prefix_lists: Vec<String>,
    /// The network around the groups, for effective exposure (ExposureMode):
    /// output of `aws ec2 describe-network-interfaces`, `describe-route-tables`,
    /// `describe-nat-gateways`, `describe-internet-gateways`,
    /// `describe-egress-only-internet-gateways`, or Config items of those
    /// types (a `select-resource-config` export). Repeatable.
    #[arg(long = "network", value_name = "FILE")]
    pub network: Vec<PathBuf>,
    /// Input files (JSON; several documents in one file are read in turn).
    /// None, or -, reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// AWS region (default: the SDK's usual chain, AWS_REGION, profile…);
    /// with --aggregator, the region the aggregator is in
    #[arg(long, conflicts_with = "regions")]
    pub region: Option<String>,
    /// Several regions of your account, comma-separated, or `all` (every
    /// region enabled for the account, from DescribeRegions)
    #[arg(long, value_name = "R1,R2|all", conflicts_with = "aggregator")]
    pub regions: Option<String>,
    /// Every account and region this AWS Config aggregator holds, through
    /// SelectAggregateResourceConfig (no EC2 calls)
    #[arg(long, value_name = "NAME")]
    pub aggregator: Option<String>,
    /// Named profile from the shared AWS config files
    #[arg(long)]
    pub profile: Option<String>,
    /// Order of the output: `exposure` puts the open groups that reach the
    /// internet first (DIRECT, VIA_NAT, INDIRECT, LATENT, ISOLATED, unknown),
    /// then the others
    #[arg(long, value_name = "exposure")]
    pub sort: Option<SortKey>,
}

/// What `scan --sort` orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    Exposure,
}
