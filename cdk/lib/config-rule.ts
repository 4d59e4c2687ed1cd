/**
 * The Config rule and the permission that lets Config invoke the function:
 * one account (`AWS::Config::ConfigRule`, invocations limited to this
 * account's Config) or a whole organization (`AWS::Config::OrganizationConfigRule`).
 * With `functionOnly`, only the permission: a conformance pack supplies the rule.
 */
import { Aws, CfnResource } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { configRuleProperties, organizationRuleProperties } from './definitions';
import { Settings } from './settings';

export class EgressConfigRule extends Construct {
  /** The rule resource (its `ref` is the rule name); none with functionOnly. */
  readonly rule?: CfnResource;
  readonly permission: lambda.CfnPermission;

  constructor(scope: Construct, id: string, settings: Settings, fn: lambda.IFunction) {
    super(scope, id);
    const definition = {
      ruleName: settings.ruleName,
      functionArn: fn.functionArn,
      maximumExecutionFrequency: settings.maximumExecutionFrequency,
      inputParameters: settings.ruleParameters,
    };
    this.permission = new lambda.CfnPermission(this, 'InvokeByConfig', {
      action: 'lambda:InvokeFunction',
      functionName: fn.functionArn,
      principal: 'config.amazonaws.com',
      // One account: only this account's Config rules may invoke. Member
      // accounts' Config invokes an organization rule's function, so there
      // SourceAccount cannot be set (see the README on what that exposes).
      ...(settings.organization
        ? {}
        : {
            sourceAccount: Aws.ACCOUNT_ID,
            sourceArn: `arn:${Aws.PARTITION}:config:${Aws.REGION}:${Aws.ACCOUNT_ID}:config-rule/*`,
          }),
    });
    if (settings.functionOnly) return;
    this.rule = settings.organization
      ? new CfnResource(this, 'OrganizationRule', {
          type: 'AWS::Config::OrganizationConfigRule',
          properties: organizationRuleProperties(definition, settings.excludedAccounts),
        })
      : new CfnResource(this, 'Rule', { type: 'AWS::Config::ConfigRule', properties: configRuleProperties(definition) });
    this.rule.addResourceDependency(this.permission);
  }
}
