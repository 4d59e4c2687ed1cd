//! Shared harness of the end-to-end tests: starts the AWS emulator
//! (`tests/emulator/server.py`) and the real function binary against it, and
//! talks to the emulator's control endpoints.
#![allow(dead_code)]

use aws_config::BehaviorVersion;
use aws_sdk_ec2::config::{Credentials, Region};
use aws_sdk_ec2::types::{AddPrefixListEntry, IpPermission, IpRange, Ipv6Range, PrefixListId, Tag};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

pub const RULE: &str = "sg-egress-rule";
/// The function's own account (the management or delegated administrator
/// account of an organization rule).
pub const ACCOUNT: &str = "123456789012";
/// A member account of the organization.
pub const MEMBER: &str = "111122223333";
/// The execution role the organization rule names in member accounts.
pub const MEMBER_ROLE: &str = "sg-egress-rule-member";

/// A running emulator; stopped when dropped.
pub struct Emulator {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
}

impl Emulator {
    pub fn start() -> Emulator {
        let python = std::env::var("SG_EGRESS_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/emulator/server.py");
        let mut child = Command::new(&python)
            .args([script, "--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // SG_EGRESS_EMULATOR_STDERR=FILE keeps the emulator's own errors, for debugging.
            .stderr(match std::env::var_os("SG_EGRESS_EMULATOR_STDERR") {
                Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
                None => Stdio::null(),
            })
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python} {script}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the emulator did not start (is moto installed? pip install -r tests/emulator/requirements.txt): {line:?}"));
        Emulator {
            child,
            _stdin: stdin,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(300)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }

    /// POSTs to a control endpoint and returns its JSON answer.
    pub fn control(&self, name: &str, body: Value) -> Value {
        let (status, text) = self.request("POST", &format!("/_emulator/{name}"), &body.to_string());
        assert_eq!(status, 200, "{name}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub fn get(&self, name: &str) -> Value {
        let (status, text) = self.request("GET", &format!("/_emulator/{name}"), "");
        assert_eq!(status, 200, "{name}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub fn result_token(&self) -> String {
        self.result_token_in(ACCOUNT)
    }

    /// A result token of the rule in `account`'s Config.
    pub fn result_token_in(&self, account: &str) -> String {
        self.control(
            "result-token",
            json!({ "ruleName": RULE, "account": account }),
        )["resultToken"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// What Config holds for the rule, by resource id.
    pub fn stored(&self) -> std::collections::BTreeMap<String, Value> {
        self.stored_in(ACCOUNT)
    }

    /// What `account`'s Config holds for the rule, by resource id.
    pub fn stored_in(&self, account: &str) -> std::collections::BTreeMap<String, Value> {
        self.get(&format!("evaluations?rule={RULE}&account={account}"))["evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["ComplianceResourceId"].as_str().unwrap().to_string(),
                    e.clone(),
                )
            })
            .collect()
    }

    /// Every PutEvaluations call the emulator accepted.
    pub fn put_calls(&self) -> Vec<Value> {
        self.get("put-calls")["calls"].as_array().unwrap().clone()
    }

    /// How many calls each operation received.
    pub fn calls(&self, operation: &str) -> u64 {
        self.get("calls")[operation].as_u64().unwrap_or(0)
    }

    /// How many calls an operation received with `account`'s credentials.
    pub fn calls_in(&self, operation: &str, account: &str) -> u64 {
        self.get("calls")["byAccount"][format!("{operation}@{account}")]
            .as_u64()
            .unwrap_or(0)
    }

    /// The RoleArn of every AssumeRole call, the harness's own left out.
    pub fn assumed_roles(&self) -> Vec<String> {
        self.get("assume-role-calls")["roleArns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .filter(|a| !a.ends_with(":role/emulator-harness"))
            .collect()
    }

    /// Lets AssumeRole assume these roles (every other role is denied).
    pub fn allow_roles(&self, arns: &[String]) {
        self.control("assumable-roles", json!({ "roleArns": arns }));
    }

    /// Declares a Config rule in `account` with these InputParameters.
    pub fn config_rule_in(&self, account: &str, name: &str, parameters: Value) {
        self.control(
            "config-rule",
            json!({"account": account, "ruleName": name, "inputParameters": parameters.to_string()}),
        );
    }

    /// Which related types Config records (relationships to them appear in items).
    pub fn record_related_types(&self, types: &[&str]) {
        self.control("recorded-types", json!({ "types": types }));
    }

    pub fn faults(&self, rules: Value) {
        self.control("faults", json!({ "rules": rules, "seed": 11 }));
    }

    /// A configuration item of the group, event form, as Config records it now.
    pub fn config_item(&self, group_id: &str) -> Value {
        self.config_item_in(ACCOUNT, group_id)
    }

    /// A configuration item of a group of `account`, event form.
    pub fn config_item_in(&self, account: &str, group_id: &str) -> Value {
        self.control(
            "config-item",
            json!({ "groupId": group_id, "form": "event", "account": account }),
        )
    }

    /// Invokes the function through the Runtime API; returns (outcome, body).
    pub fn invoke(&self, event: &Value) -> (String, Value) {
        self.invoke_with(json!({ "event": event, "timeoutSeconds": 240 }))
    }

    /// Invokes the function with a deadline `seconds` from now.
    pub fn invoke_within(&self, event: &Value, seconds: u64) -> (String, Value) {
        self.invoke_with(
            json!({ "event": event, "timeoutSeconds": 240, "deadlineSeconds": seconds }),
        )
    }

    /// Invokes as `request` asks the emulator; (outcome, body as JSON when it is).
    fn invoke_with(&self, request: Value) -> (String, Value) {
        let answer = self.control("invoke", request);
        let outcome = answer["outcome"].as_str().unwrap().to_string();
        let body = answer["body"]
            .as_str()
            .map(|b| serde_json::from_str(b).unwrap_or(json!(b)))
            .unwrap_or(Value::Null);
        (outcome, body)
    }

    /// Stores a hook's stack payload; returns its presigned-looking URL.
    pub fn payload(&self, body: &str, status: u16, delay_seconds: f64) -> String {
        let answer = self.control(
            "payload",
            json!({ "body": body, "status": status, "delaySeconds": delay_seconds }),
        );
        answer["url"].as_str().unwrap().to_string()
    }

    /// Invokes the function with bytes that need not be JSON.
    pub fn invoke_raw(&self, bytes: &[u8]) -> (String, Value) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.invoke_with(json!({ "rawEventHex": hex, "timeoutSeconds": 60 }))
    }

    /// The SDK's EC2 client, pointed at the emulator with dummy keys.
    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk_config().await)
    }

    async fn sdk_config(&self) -> aws_config::SdkConfig {
        self.sdk_config_at("us-east-1").await
    }

    async fn sdk_config_at(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.url())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .load()
            .await
    }

    /// An EC2 client of another account, through the harness's own role
    /// there (the function never uses it).
    pub async fn ec2_in(&self, account: &str) -> aws_sdk_ec2::Client {
        self.ec2_at(account, "us-east-1").await
    }

    /// An EC2 client of `account` in `region`.
    pub async fn ec2_at(&self, account: &str, region: &str) -> aws_sdk_ec2::Client {
        let base = self.sdk_config_at(region).await;
        if account == ACCOUNT {
            return aws_sdk_ec2::Client::new(&base);
        }
        let provider = aws_config::sts::AssumeRoleProvider::builder(format!(
            "arn:aws:iam::{account}:role/emulator-harness"
        ))
        .session_name("harness")
        .configure(&base)
        .build()
        .await;
        let config = base
            .to_builder()
            .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                provider,
            ))
            .build();
        aws_sdk_ec2::Client::new(&config)
    }

    /// Starts the real `sg-egress-rule` binary against this emulator.
    pub fn function(&self) -> Function {
        self.function_with(&[])
    }

    /// Starts the function with extra environment variables.
    pub fn function_with(&self, env: &[(&str, &str)]) -> Function {
        let url = self.url();
        let runtime_api = format!("127.0.0.1:{}", self.port);
        let defaults = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "sg-egress-rule"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/sg-egress-rule"),
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ];
        // The test's own settings win over the defaults.
        let child = Command::new(env!("CARGO_BIN_EXE_sg-egress-rule"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(defaults)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the function binary starts");
        Function::new(child)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The running function; stopped when dropped. Its output is read as it
/// comes (a full pipe would block the function).
pub struct Function {
    child: Child,
    readers: Vec<std::thread::JoinHandle<String>>,
}

impl Function {
    fn new(mut child: Child) -> Function {
        let mut readers = Vec::new();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for mut pipe in [stdout, stderr].into_iter().flatten() {
            readers.push(std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            }));
        }
        Function { child, readers }
    }

    /// Stops the function and returns what it logged.
    pub fn logs(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.readers
            .drain(..)
            .map(|r| r.join().unwrap_or_default())
            .collect()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Config Lambda event around an invoking event, for the function's own account.
pub fn lambda_event(invoking: Value, rule_parameters: Value, result_token: &str) -> Value {
    lambda_event_in(ACCOUNT, invoking, rule_parameters, result_token)
}

/// A Config Lambda event of an organization rule in `account`.
pub fn lambda_event_in(
    account: &str,
    invoking: Value,
    rule_parameters: Value,
    result_token: &str,
) -> Value {
    let mut event = json!({
        "version": "1.0",
        "invokingEvent": invoking.to_string(),
        "ruleParameters": rule_parameters.to_string(),
        "resultToken": result_token,
        "eventLeftScope": false,
        "executionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"),
        "configRuleArn": format!("arn:aws:config:us-east-1:{ACCOUNT}:config-rule/config-rule-0a1b2c"),
        "configRuleName": RULE,
        "configRuleId": "config-rule-0a1b2c",
        "accountId": ACCOUNT,
        "evaluationMode": "DETECTIVE",
    });
    let text = event.to_string().replace(ACCOUNT, account);
    event = serde_json::from_str(&text).unwrap();
    event["resultToken"] = json!(result_token);
    event
}

pub fn change_notification(item: Value) -> Value {
    json!({
        "configurationItemDiff": null,
        "configurationItem": item,
        "notificationCreationTime": "2026-11-20T09:15:02.112Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    })
}

pub fn scheduled_notification() -> Value {
    json!({
        "awsAccountId": ACCOUNT,
        "notificationCreationTime": "2026-11-20T12:00:00.000Z",
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    })
}

pub fn ipv4(protocol: &str, ports: Option<(i32, i32)>, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(ports.map(|p| p.0))
        .set_to_port(ports.map(|p| p.1))
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

pub fn ipv6(protocol: &str, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(protocol)
        .ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build())
        .build()
}

pub fn prefix_list(protocol: &str, id: &str) -> IpPermission {
    let ports = (protocol != "-1").then_some(0);
    IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(ports)
        .set_to_port(ports.map(|_| 65535))
        .prefix_list_ids(PrefixListId::builder().prefix_list_id(id).build())
        .build()
}

/// EC2 set-up for the tests, through the real SDK.
pub struct Account {
    pub ec2: aws_sdk_ec2::Client,
    pub vpc: String,
}

impl Account {
    pub async fn new(emulator: &Emulator) -> Account {
        Account::new_in(emulator, ACCOUNT).await
    }

    /// Set-up in another account of the organization.
    pub async fn new_in(emulator: &Emulator, account: &str) -> Account {
        Account::new_at(emulator, account, "us-east-1").await
    }

    /// Set-up in an account and region.
    pub async fn new_at(emulator: &Emulator, account: &str, region: &str) -> Account {
        let ec2 = emulator.ec2_at(account, region).await;
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .unwrap()
            .vpc
            .unwrap()
            .vpc_id
            .unwrap();
        Account { ec2, vpc }
    }

    /// A group with the given egress (the default allow-all rule removed first
    /// unless `egress` is `None`).
    pub async fn group(&self, name: &str, egress: Option<Vec<IpPermission>>) -> String {
        let id = self
            .ec2
            .create_security_group()
            .group_name(name)
            .description(name)
            .vpc_id(&self.vpc)
            .send()
            .await
            .unwrap()
            .group_id
            .unwrap();
        if let Some(egress) = egress {
            self.ec2
                .revoke_security_group_egress()
                .group_id(&id)
                .ip_permissions(ipv4("-1", None, "0.0.0.0/0"))
                .send()
                .await
                .unwrap();
            if !egress.is_empty() {
                self.ec2
                    .authorize_security_group_egress()
                    .group_id(&id)
                    .set_ip_permissions(Some(egress))
                    .send()
                    .await
                    .unwrap();
            }
        }
        id
    }

    pub async fn tag(&self, id: &str, key: &str, value: &str) {
        self.ec2
            .create_tags()
            .resources(id)
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .unwrap();
    }

    pub async fn prefix_list(&self, cidrs: &[&str]) -> String {
        let mut request = self
            .ec2
            .create_managed_prefix_list()
            .prefix_list_name(format!(
                "pl-{}",
                cidrs.join("-").replace(['/', ':', '.'], "_")
            ))
            .max_entries(10)
            .address_family("IPv4");
        for cidr in cidrs {
            request = request.entries(AddPrefixListEntry::builder().cidr(*cidr).build());
        }
        request
            .send()
            .await
            .unwrap()
            .prefix_list
            .unwrap()
            .prefix_list_id
            .unwrap()
    }

    pub async fn attach_interface(&self, group: &str) {
        let subnet = self
            .ec2
            .create_subnet()
            .vpc_id(&self.vpc)
            .cidr_block(format!("10.0.{}.0/24", rand_octet(group)))
            .send()
            .await
            .unwrap()
            .subnet
            .unwrap()
            .subnet_id
            .unwrap();
        self.ec2
            .create_network_interface()
            .subnet_id(subnet)
            .groups(group)
            .send()
            .await
            .unwrap();
    }

    pub async fn delete(&self, id: &str) {
        self.ec2
            .delete_security_group()
            .group_id(id)
            .send()
            .await
            .unwrap();
    }

    /// Ids of every group in the account (default groups included).
    pub async fn all_group_ids(&self) -> Vec<String> {
        let groups = self.ec2.describe_security_groups().send().await.unwrap();
        groups
            .security_groups()
            .iter()
            .map(|g| g.group_id().unwrap().to_string())
            .collect()
    }
}

fn rand_octet(seed: &str) -> u32 {
    seed.bytes()
        .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 250
        + 1
}
