/**
 * The rule's definitions, in one place: the parameter names of the contract,
 * the triggers, the IAM actions the Rust code calls, and the remediation
 * runbook. The stacks and the conformance pack are both generated from these,
 * so they cannot drift apart.
 */

/** The resource type the rule evaluates. */
export const RESOURCE_TYPE = 'AWS::EC2::SecurityGroup';

/** InputParameters names and types, exactly as SPEC.md defines them. */
export const PARAMETERS = {
  CheckIpv6: 'boolean',
  ExemptGroupIds: 'sg-ids',
  ExemptVpcIds: 'vpc-ids',
  ExemptTagKey: 'string',
  IgnoreUnusedGroups: 'boolean',
  ResolvePrefixLists: 'boolean',
  ExecutionRoleName: 'role-name',
  ExposureMode: 'exposure-mode',
} as const;

export type ParameterName = keyof typeof PARAMETERS;

/** Valid periods of the scheduled sweep. */
export const FREQUENCIES = ['One_Hour', 'Three_Hours', 'Six_Hours', 'Twelve_Hours', 'TwentyFour_Hours'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** Config message types that trigger the function. */
export const TRIGGERS = [
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
  'ScheduledNotification',
] as const;

/**
 * Where an action can be scoped, in the account and region of the deployment
 * that grants it (rule-function.ts turns each into resources; the member
 * template into region-agnostic ones).
 */
export type Scope = 'no resource-level permissions' | 'the rule' | 'prefix lists' | 'security groups' | 'member roles';

/**
 * The IAM actions the rule function calls (`SG_EGRESS_MODE=rule`): the SDK
 * operations reachable from that mode of the Lambda binary
 * (test/code-actions.test.ts checks both ways). Granted to the function's
 * role, and in organization mode to the member role in every member account.
 */
export const RULE_FUNCTION_ACTIONS: Record<string, Scope> = {
  'config:PutEvaluations': 'no resource-level permissions',
  'config:GetResourceConfigHistory': 'no resource-level permissions',
  'config:GetComplianceDetailsByConfigRule': 'the rule',
  'ec2:DescribeSecurityGroups': 'no resource-level permissions',
  'ec2:DescribeNetworkInterfaces': 'no resource-level permissions',
  'ec2:GetManagedPrefixListEntries': 'prefix lists',
  // Effective exposure (ExposureMode): the network of an open group's VPC.
  'ec2:DescribeRouteTables': 'no resource-level permissions',
  'ec2:DescribeNatGateways': 'no resource-level permissions',
  'ec2:DescribeInternetGateways': 'no resource-level permissions',
  'ec2:DescribeEgressOnlyInternetGateways': 'no resource-level permissions',
};

/**
 * What the organization rule function needs besides: assuming the member
 * role (`ExecutionRoleName`). A single-account function never assumes a role
 * (the rule carries no ExecutionRoleName there), so it is not granted one.
 */
export const ORGANIZATION_FUNCTION_ACTIONS: Record<string, Scope> = {
  'sts:AssumeRole': 'member roles',
};

/**
 * The IAM actions the remediation function calls (`SG_EGRESS_MODE=remediation`):
 * it reads the rule's current parameters (`config:DescribeConfigRules`, the
 * rule named by `SG_EGRESS_RULE_NAME` or the payload's `ConfigRuleName`),
 * the group and its rules, and revokes (a dry run calls
 * `RevokeSecurityGroupEgress` with `DryRun=true`).
 */
export const REMEDIATION_FUNCTION_ACTIONS: Record<string, Scope> = {
  'config:DescribeConfigRules': 'the rule',
  'ec2:DescribeSecurityGroups': 'no resource-level permissions',
  'ec2:DescribeSecurityGroupRules': 'no resource-level permissions',
  'ec2:GetManagedPrefixListEntries': 'prefix lists',
  'ec2:AuthorizeSecurityGroupEgress': 'security groups',
  'ec2:RevokeSecurityGroupEgress': 'security groups',
};

/**
 * The IAM actions `sg-egress scan` calls with the user's own credentials. The
 * command line is never deployed, so nothing grants these; they are listed so
 * that the README can give the policy a scan needs, and so that the
 * IAM-vs-code test attributes the CLI's calls to the CLI rather than to a
 * deployed role.
 */
export const CLI_ACTIONS: Record<string, string> = {
  'ec2:DescribeSecurityGroups': 'scan: every group of the account and region',
  'ec2:DescribeNetworkInterfaces': 'scan with IgnoreUnusedGroups',
  'ec2:GetManagedPrefixListEntries': 'scan with ResolvePrefixLists',
  'ec2:DescribeRegions': 'scan --regions all',
  'ec2:DescribeRouteTables': 'scan: exposure of open groups (ExposureMode)',
  'ec2:DescribeNatGateways': 'scan: exposure of open groups (ExposureMode)',
  'ec2:DescribeInternetGateways': 'scan: exposure of open groups (ExposureMode)',
  'ec2:DescribeEgressOnlyInternetGateways': 'scan: exposure of open groups (ExposureMode)',
  'config:SelectAggregateResourceConfig': 'scan --aggregator NAME',
};

/**
 * The IAM actions the hook function calls (`SG_EGRESS_MODE=hook`): the
 * entries of the managed prefix lists a proposed group names, read as the
 * rule reads them when `ResolvePrefixLists` is true (the default), and the
 * group a standalone egress rule joins (its tags and VPC decide exemptions,
 * as they will for the rule). It judges
 * what CloudFormation hands it, and fetches a stack operation's template from
 * the presigned URL in the request with a plain HTTPS GET, which needs no
 * permission (test/code-actions.test.ts checks the hook mode's SDK calls).
 */
export const HOOK_FUNCTION_ACTIONS: Record<string, Scope> = {
  'ec2:GetManagedPrefixListEntries': 'prefix lists',
  'ec2:DescribeSecurityGroups': 'no resource-level permissions',
};

/** SDK operations that need no IAM permission (AWS allows them to every caller). */
export const ACTIONS_NEEDING_NO_PERMISSION: readonly string[] = ['sts:GetCallerIdentity'];

/** Environment of each mode of the Lambda binary (src/bin/sg-egress-rule.rs reads these). */
export const FUNCTION_ENVIRONMENT = {
  /** `rule`, `remediation` or `hook`. */
  mode: 'SG_EGRESS_MODE',
  /** Organization mode: the only ExecutionRoleName the rule function accepts. */
  executionRoleName: 'SG_EGRESS_EXECUTION_ROLE_NAME',
  /** Remediation: the Config rule whose current parameters it judges with (a payload's ConfigRuleName overrides it). */
  ruleName: 'SG_EGRESS_RULE_NAME',
  /** Hook: the rule's InputParameters as JSON text (the hook has no rule to read them from); unset, the defaults. */
  parameters: 'SG_EGRESS_PARAMETERS',
} as const;

/** The resource types the hook judges (a standalone egress rule can open a group too). */
export const HOOK_TARGET_NAMES = ['AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupEgress'] as const;

/** CloudFormation's FailureMode values (what it does when the hook answers FAILED), the default first. */
export const HOOK_FAILURE_MODES = ['WARN', 'FAIL'] as const;
export type HookFailureMode = (typeof HOOK_FAILURE_MODES)[number];

/**
 * CloudFormation's pattern for a hook's `Alias` (AWS::CloudFormation::LambdaHook):
 * three names of 2 to 64 letters or digits, not starting with AWS in any case.
 */
export const HOOK_ALIAS_PATTERN = /^(?![Aa][Ww][Ss])[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}$/;

/**
 * The aliases of the two hooks (one for resource operations, one for stack
 * operations), unique per account and region: `Private::<ruleName's letters
 * and digits, each word capitalized>::ResourceHook` and `…::StackHook`
 * (`sg-egress-rule` gives `Private::SgEgressRule::ResourceHook`). Rule names
 * that differ only in their `-` and `_` give the same aliases.
 */
export function hookAliases(ruleName: string): { readonly resource: string; readonly stack: string } {
  const name = ruleName
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
  return { resource: `Private::${name}::ResourceHook`, stack: `Private::${name}::StackHook` };
}

/** Parameters of the remediation runbook. */
export interface RunbookOptions {
  /** ARN of the remediation function the runbook invokes. */
  readonly functionArn: string;
}

/**
 * The runbook's one step: invoke the remediation function synchronously and
 * fail when it fails. It depends only on the Lambda Invoke API as documented
 * (`FunctionError` is present exactly when the function failed; `Payload` is
 * its answer or its error) and on `aws:executeScript` failing its step when the
 * script raises; not on outputs of `aws:invokeLambdaFunction` that exist only
 * on some paths. boto3's own retries are off: a timed-out remediation is not
 * run twice.
 */
export const RUNBOOK_SCRIPT = `import json

import boto3
from botocore.config import Config


def remediate(events, context):
    dry_run = str(events.get("DryRun", "true")).strip().lower() != "false"
    payload = {"GroupId": events["GroupId"], "DryRun": dry_run, "KeepEgress": events.get("KeepEgress") or ""}
    if events.get("ConfigRuleName"):
        payload["ConfigRuleName"] = events["ConfigRuleName"]
    client = boto3.client("lambda", config=Config(read_timeout=120, retries={"total_max_attempts": 1}))
    response = client.invoke(
        FunctionName=events["FunctionName"],
        InvocationType="RequestResponse",
        Payload=json.dumps(payload).encode("utf-8"),
    )
    body = response["Payload"].read().decode("utf-8")
    if response.get("FunctionError"):
        raise Exception("the remediation function failed (" + response["FunctionError"] + "), nothing more was done: " + body)
    return {"Result": body}
`;

/** The SSM Automation document (schema 0.3) that invokes the remediation function. */
export function runbookContent(options: RunbookOptions): Record<string, unknown> {
  return {
    schemaVersion: '0.3',
    description:
      'Revokes the egress rules that open a security group to the whole internet (all traffic, all TCP or all UDP ports), ' +
      'as decided by the sg-egress-rule Config rule with its current parameters. Dry run by default. Fails, changing nothing, ' +
      'when the group is open only through a combination of narrower rules that no single revocation closes, and whenever ' +
      'the remediation function fails.',
    assumeRole: '{{ AutomationAssumeRole }}',
    parameters: {
      GroupId: {
        type: 'String',
        description: 'The security group to remediate (the Config resource id).',
        allowedPattern: '^sg-([0-9a-f]{8}|[0-9a-f]{17})$',
      },
      DryRun: {
        type: 'String',
        description: 'true: report what would be revoked and change nothing; false: revoke.',
        default: 'true',
        allowedValues: ['true', 'false'],
      },
      KeepEgress: {
        type: 'String',
        description: 'Narrower rules to add back to the same destinations before revoking, e.g. tcp:443,tcp:80.',
        default: '',
        allowedPattern: '^$|^(tcp|udp):[0-9]{1,5}(-[0-9]{1,5})?(,(tcp|udp):[0-9]{1,5}(-[0-9]{1,5})?)*$',
      },
      ConfigRuleName: {
        type: 'String',
        description:
          'The Config rule whose current parameters decide (a conformance pack names its rules itself); empty: the rule the function was deployed with.',
        default: '',
        allowedPattern: '^$|^[A-Za-z0-9_-]{1,128}$',
      },
      AutomationAssumeRole: {
        type: 'String',
        description: 'The role the automation assumes; it may only invoke the remediation function.',
        default: '',
      },
    },
    mainSteps: [
      {
        name: 'Remediate',
        action: 'aws:executeScript',
        description:
          'Invokes the remediation function (which revokes by SecurityGroupRuleId) and fails with its message when it fails or refuses.',
        timeoutSeconds: 180,
        onFailure: 'Abort',
        isEnd: true,
        inputs: {
          Runtime: 'python3.11',
          Handler: 'remediate',
          Script: RUNBOOK_SCRIPT,
          InputPayload: {
            FunctionName: options.functionArn,
            GroupId: '{{ GroupId }}',
            DryRun: '{{ DryRun }}',
            KeepEgress: '{{ KeepEgress }}',
            ConfigRuleName: '{{ ConfigRuleName }}',
          },
        },
        outputs: [{ Name: 'Result', Selector: '$.Payload.Result', Type: 'String' }],
      },
    ],
    outputs: ['Remediate.Result'],
  };
}

/** What the rule's CloudFormation properties are built from. */
export interface RuleDefinition {
  readonly ruleName: string;
  /** The rule function's ARN (a token or a template reference). */
  readonly functionArn: unknown;
  readonly maximumExecutionFrequency: Frequency;
  /** InputParameters, values as strings. */
  readonly inputParameters: Record<string, string>;
}

/** `AWS::Config::ConfigRule` properties (template form, PascalCase). */
export function configRuleProperties(rule: RuleDefinition): Record<string, unknown> {
  return {
    ConfigRuleName: rule.ruleName,
    Description:
      'Security groups whose egress opens all traffic, all TCP ports or all UDP ports to the whole IPv4 or IPv6 internet. ' +
      'Recommended action: restrict egress to only the addresses, ranges and ports that require it.',
    Scope: { ComplianceResourceTypes: [RESOURCE_TYPE] },
    Source: {
      Owner: 'CUSTOM_LAMBDA',
      SourceIdentifier: rule.functionArn,
      SourceDetails: TRIGGERS.map((messageType) => ({
        EventSource: 'aws.config',
        MessageType: messageType,
        ...(messageType === 'ScheduledNotification' ? { MaximumExecutionFrequency: rule.maximumExecutionFrequency } : {}),
      })),
    },
    InputParameters: rule.inputParameters,
  };
}

/** `AWS::Config::OrganizationConfigRule` properties. */
export function organizationRuleProperties(rule: RuleDefinition, excludedAccounts: string[]): Record<string, unknown> {
  return {
    OrganizationConfigRuleName: rule.ruleName,
    OrganizationCustomRuleMetadata: {
      Description: (configRuleProperties(rule).Description as string).slice(0, 256),
      LambdaFunctionArn: rule.functionArn,
      OrganizationConfigRuleTriggerTypes: TRIGGERS,
      ResourceTypesScope: [RESOURCE_TYPE],
      InputParameters: JSON.stringify(rule.inputParameters),
      MaximumExecutionFrequency: rule.maximumExecutionFrequency,
    },
    ...(excludedAccounts.length > 0 ? { ExcludedAccounts: excludedAccounts } : {}),
  };
}

/** What the remediation configuration is built from. */
export interface RemediationDefinition {
  readonly ruleName: unknown;
  readonly documentName: unknown;
  readonly automationRoleArn: unknown;
  readonly automatic: boolean;
  readonly dryRun: boolean;
  readonly keepEgress: string;
  readonly maximumAutomaticAttempts: number;
  readonly retryAttemptSeconds: number;
  /** Passed to the runbook's ConfigRuleName when the function cannot know the rule's name (conformance packs). */
  readonly ruleNameForFunction?: unknown;
}

/** `AWS::Config::RemediationConfiguration` properties. */
export function remediationProperties(r: RemediationDefinition): Record<string, unknown> {
  return {
    ConfigRuleName: r.ruleName,
    TargetType: 'SSM_DOCUMENT',
    TargetId: r.documentName,
    ResourceType: RESOURCE_TYPE,
    Automatic: r.automatic,
    MaximumAutomaticAttempts: r.maximumAutomaticAttempts,
    RetryAttemptSeconds: r.retryAttemptSeconds,
    Parameters: {
      GroupId: { ResourceValue: { Value: 'RESOURCE_ID' } },
      DryRun: { StaticValue: { Values: [String(r.dryRun)] } },
      ...(r.keepEgress !== '' ? { KeepEgress: { StaticValue: { Values: [r.keepEgress] } } } : {}),
      AutomationAssumeRole: { StaticValue: { Values: [r.automationRoleArn] } },
      ...(r.ruleNameForFunction !== undefined ? { ConfigRuleName: { StaticValue: { Values: [r.ruleNameForFunction] } } } : {}),
    },
  };
}
