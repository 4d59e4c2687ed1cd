/**
 * Optional (context `hook`): CloudFormation Lambda hooks that judge security
 * groups before CloudFormation provisions them, with the rule's decision and
 * the rule's parameters.
 *
 * - A third deployment of the binary (`SG_EGRESS_MODE=hook`), with its own
 *   log group and role. Its AWS calls read the entries of the managed
 *   prefix lists a proposed group names (`ResolvePrefixLists`, as the rule)
 *   and the group a standalone egress rule joins (for its exemptions); it
 *   fetches a stack operation's template from the presigned URL in the
 *   request. Its role may write its logs and make those calls. The rule's InputParameters reach it as
 *   `SG_EGRESS_PARAMETERS`, the same object the stack gives the Config rule.
 * - An execution role that CloudFormation's hooks service assumes, allowed
 *   `lambda:InvokeFunction` on that function and nothing else. The grant is
 *   inline, so the hooks (which reference the role) exist only once it does.
 * - Two `AWS::CloudFormation::LambdaHook`s, both invoking that function:
 *   one for RESOURCE operations, filtered to `AWS::EC2::SecurityGroup` and
 *   `AWS::EC2::SecurityGroupEgress`, and one for STACK operations with no
 *   type filter. Why two: `TargetNames` names resource types
 *   (`Name1::Name2::Name3`), a stack operation's target is `STACK`, and AWS
 *   does not say whether a hook filtered by `TargetNames` is still invoked
 *   for stack operations; the `Targets` form names resource types the same
 *   way. One hook without `TargetNames` would keep stack operations but
 *   invoke the function before every resource of every type, and with
 *   `FAIL` a Lambda error would stop deployments that hold no group. Two
 *   hooks keep both filters exact whatever AWS does.
 * - Both: CREATE and UPDATE (a DELETE cannot open a group), PRE_PROVISION,
 *   the FailureMode of `hookFailureMode` (WARN by default, as AWS advises
 *   to start), and a stack filter that excludes this stack by name, so the
 *   hooks never judge (and with FAIL never block) the stack that holds
 *   them, whose update is also how they are changed or removed.
 *
 * The CDK's L1 types require the `Targets` form of `TargetFilters`; the
 * resource schema accepts either, and the array form is written with an
 * override (cfn-lint checks it against the schema in test/lint.test.ts).
 */
import { Aws } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FUNCTION_ENVIRONMENT, HOOK_TARGET_NAMES, hookAliases } from './definitions';
import { RuleFunction } from './rule-function';
import { Settings } from './settings';

/** The service principal of CloudFormation's hooks, which assumes a Lambda hook's execution role. */
export const HOOKS_PRINCIPAL = 'hooks.cloudformation.amazonaws.com';

/** The operations the hooks judge: a DELETE cannot open a group. */
export const HOOK_ACTIONS = ['CREATE', 'UPDATE'];

export class EgressHook extends Construct {
  readonly function: RuleFunction;
  readonly executionRole: iam.Role;
  /** Invoked before CloudFormation creates or updates a group or a standalone egress rule (resolved properties). */
  readonly resourceHook: cloudformation.CfnLambdaHook;
  /** Invoked before CloudFormation creates or updates any stack (the template as written). */
  readonly stackHook: cloudformation.CfnLambdaHook;

  constructor(scope: Construct, id: string, settings: Settings) {
    super(scope, id);
    this.function = new RuleFunction(this, 'Function', {
      mode: 'hook',
      architecture: settings.architecture,
      functionCodePath: settings.functionCodePath,
      logRetentionDays: settings.logRetentionDays,
      alarmTopicName: settings.alarmTopicName,
      // The rule's parameters exactly as the stack gives them to the Config rule.
      environment: { [FUNCTION_ENVIRONMENT.parameters]: JSON.stringify(settings.ruleParameters) },
    });
    const functionArn = this.function.function.functionArn;
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal(HOOKS_PRINCIPAL),
      description: 'sg-egress-rule hooks: CloudFormation assumes it to invoke the hook function, and may do nothing else',
      inlinePolicies: {
        'invoke-hook-function': new iam.PolicyDocument({
          // The unqualified ARN the hooks name: it allows that function only, no version or alias.
          statements: [new iam.PolicyStatement({ sid: 'InvokeHookFunction', actions: ['lambda:InvokeFunction'], resources: [functionArn] })],
        }),
      },
    });
    const aliases = hookAliases(settings.ruleName);
    const common = {
      executionRole: this.executionRole.roleArn,
      lambdaFunction: functionArn,
      failureMode: settings.hookFailureMode,
      hookStatus: 'ENABLED',
      // Never this stack: the hooks' own update (or removal) is not theirs to judge or block.
      stackFilters: { filteringCriteria: 'ALL', stackNames: { exclude: [Aws.STACK_NAME] } },
    };
    this.resourceHook = new cloudformation.CfnLambdaHook(this, 'ResourceHook', {
      ...common,
      alias: aliases.resource,
      targetOperations: ['RESOURCE'],
    });
    this.resourceHook.addPropertyOverride('TargetFilters', {
      Actions: HOOK_ACTIONS,
      InvocationPoints: ['PRE_PROVISION'],
      TargetNames: [...HOOK_TARGET_NAMES],
    });
    this.stackHook = new cloudformation.CfnLambdaHook(this, 'StackHook', {
      ...common,
      alias: aliases.stack,
      targetOperations: ['STACK'],
    });
    // No TargetNames: a stack operation is no resource type (see above).
    this.stackHook.addPropertyOverride('TargetFilters', { Actions: HOOK_ACTIONS, InvocationPoints: ['PRE_PROVISION'] });
  }
}
