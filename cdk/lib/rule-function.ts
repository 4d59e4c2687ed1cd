/**
 * One deployment of the Rust binary: the function, its log group and its
 * role, with exactly the IAM actions that mode of the binary calls (none for
 * the hook), and alarms that make its failures visible. The rule function,
 * which Config invokes asynchronously, also gets an on-failure destination
 * (an encrypted SQS queue) for the events Lambda gave up on.
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_ENVIRONMENT, HOOK_FUNCTION_ACTIONS, REMEDIATION_FUNCTION_ACTIONS, RULE_FUNCTION_ACTIONS, Scope } from './definitions';
import { Architecture, rustFunction } from './function-code';

/** The modes of the binary (SG_EGRESS_MODE) the app deploys. */
export type FunctionMode = 'rule' | 'remediation' | 'hook';

/** What each mode calls (definitions.ts), how it is described, how long it may run, and what its errors alarm says. */
const MODES: Record<FunctionMode, { actions: Record<string, Scope>; description: string; timeout: Duration; errors: string }> = {
  rule: {
    actions: RULE_FUNCTION_ACTIONS,
    description: 'AWS Config rule: security groups whose egress opens all traffic, all TCP or all UDP ports to the internet',
    timeout: Duration.minutes(5),
    errors: 'sg-egress-rule: the rule function failed (its logs say why; Lambda retries, then sends the event to the failed-invocations queue)',
  },
  remediation: {
    actions: REMEDIATION_FUNCTION_ACTIONS,
    description: 'Remediation of sg-egress-rule findings: revokes the open egress rules (invoked by the SSM runbook)',
    timeout: Duration.minutes(1),
    errors: 'sg-egress-rule: the remediation function failed or refused (the automation execution has its message)',
  },
  hook: {
    actions: HOOK_FUNCTION_ACTIONS,
    description: 'CloudFormation Lambda hook: judges security groups with the sg-egress-rule decision before they are provisioned',
    // CloudFormation waits at most 30 seconds for a hook's answer.
    timeout: Duration.seconds(30),
    errors:
      'sg-egress-rule: the hook function failed (it answers every request it can read, so it crashed or timed out; ' +
      'the hook\'s FailureMode decided whether the stack operation went on)',
  },
};

export interface RuleFunctionProps {
  readonly mode: FunctionMode;
  readonly architecture: Architecture;
  /** A directory holding a prebuilt `bootstrap`; otherwise RustFunction builds it. */
  readonly functionCodePath?: string;
  readonly logRetentionDays: number;
  /** A fixed role name (organization mode: member roles trust it by name pattern). */
  readonly roleName?: string;
  /** Environment besides SG_EGRESS_MODE. */
  readonly environment?: Record<string, string>;
  /** Reserved concurrency (the organization rule function). */
  readonly reservedConcurrency?: number;
  /** Name of an SNS topic in this account and region that the alarms notify. */
  readonly alarmTopicName?: string;
}

/** The resource each action can be scoped to, in this account and region. */
export function resourcesFor(action: string, stack: Stack): string[] {
  const scopes: Record<string, Scope> = { ...RULE_FUNCTION_ACTIONS, ...REMEDIATION_FUNCTION_ACTIONS };
  const scope = scopes[action];
  switch (scope) {
    case 'the rule':
      return [`arn:${Aws.PARTITION}:config:${Aws.REGION}:${Aws.ACCOUNT_ID}:config-rule/*`];
    case 'prefix lists':
      // Lists owned by this account, shared with it, or managed by AWS.
      return [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:*:prefix-list/*`];
    case 'security groups':
      return [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:security-group/*`];
    case 'no resource-level permissions':
      return ['*'];
    default:
      throw new Error(`${action} has no scope in definitions.ts (${stack.stackName})`);
  }
}

/** One statement per resource scope, granting exactly `actions`. */
export function actionStatements(actions: Record<string, Scope>, stack: Stack): iam.PolicyStatement[] {
  const byResource = new Map<string, string[]>();
  for (const action of Object.keys(actions)) {
    const key = JSON.stringify(resourcesFor(action, stack));
    byResource.set(key, [...(byResource.get(key) ?? []), action]);
  }
  return [...byResource].map(
    ([resources, grouped]) => new iam.PolicyStatement({ actions: grouped.sort(), resources: JSON.parse(resources) }),
  );
}

/** Why each scope is as narrow as IAM allows, for cdk-nag's AwsSolutions-IAM5. */
export const SCOPE_REASONS: Record<string, [string, string]> = {
  'no resource-level permissions': [
    'Resource::*',
    'These actions (ec2:Describe*, config:PutEvaluations, config:GetResourceConfigHistory) support no resource-level permissions.',
  ],
  'the rule': [
    'Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:config-rule/*',
    'Config assigns the rule id at creation (and a conformance pack names its rules itself), after this policy exists; config-rule/* in this account and region is the narrowest ARN.',
  ],
  'prefix lists': [
    'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:prefix-list/*',
    'Security groups may reference prefix lists owned by this account, shared with it, or managed by AWS; the action only reads entries.',
  ],
  'security groups': [
    'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*',
    'Remediation acts on whichever group Config finds non-compliant in this account and region, and the runbook alone can invoke it.',
  ],
};

/** Acknowledges, with its reason, each wildcard scope the actions need. */
export function acknowledgeScopes(scope: Construct, actions: Record<string, string>): void {
  for (const kind of new Set(Object.values(actions))) {
    const [finding, reason] = SCOPE_REASONS[kind];
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

export class RuleFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The rule function's on-failure destination for asynchronous invocations. */
  readonly failedInvocations?: sqs.Queue;
  readonly errorsAlarm: cloudwatch.Alarm;
  readonly failedInvocationsAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RuleFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      roleName: props.roleName,
      description: `sg-egress-rule ${props.mode} function`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Logs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    const mode = MODES[props.mode];
    actionStatements(mode.actions, stack).forEach((statement) => this.role.addToPolicy(statement));
    acknowledgeScopes(this.role, mode.actions);
    this.function = rustFunction(this, 'Function', {
      architecture: props.architecture,
      functionCodePath: props.functionCodePath,
      description: mode.description,
      memorySize: 256,
      timeout: mode.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: { [FUNCTION_ENVIRONMENT.mode]: props.mode, ...(props.environment ?? {}) },
    });
    const topic = props.alarmTopicName
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', `arn:${Aws.PARTITION}:sns:${Aws.REGION}:${Aws.ACCOUNT_ID}:${props.alarmTopicName}`)
      : undefined;
    const notify = (alarm: cloudwatch.Alarm) => {
      if (topic) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
        alarm.addOkAction(new cloudwatchActions.SnsAction(topic));
      }
      return alarm;
    };
    this.errorsAlarm = notify(
      new cloudwatch.Alarm(this, 'ErrorsAlarm', {
        alarmDescription: mode.errors,
        metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    if (props.mode === 'rule') {
      // Config invokes the rule function asynchronously: an event Lambda
      // gives up on (after its retries, or after six hours of throttling)
      // lands here rather than only in the logs.
      this.failedInvocations = new sqs.Queue(this, 'FailedInvocations', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(this.failedInvocations).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the on-failure destination of the rule function; its alarm fires on the first message.',
      });
      this.function.configureAsyncInvoke({
        onFailure: new destinations.SqsDestination(this.failedInvocations),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      });
      this.failedInvocationsAlarm = notify(
        new cloudwatch.Alarm(this, 'FailedInvocationsAlarm', {
          alarmDescription:
            'sg-egress-rule: Config events the rule function could not handle after Lambda\'s retries are in the failed-invocations queue',
          metric: this.failedInvocations.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
  }
}
