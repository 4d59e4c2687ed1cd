/**
 * The conformance pack template, generated from the same definitions as the
 * stack (definitions.ts), so the two cannot drift. The rule function must be
 * deployed already (the stack); its ARN is a parameter of the pack.
 */
import { configRuleProperties, remediationProperties } from './definitions';
import { Settings } from './settings';

export function conformancePackTemplate(settings: Settings, withRemediation: boolean): Record<string, unknown> {
  const parameters: Record<string, unknown> = {
    RuleFunctionArn: {
      Type: 'String',
      Description: 'ARN of the sg-egress-rule function (output RuleFunctionArn of the SgEgressRule stack)',
    },
  };
  const resources: Record<string, unknown> = {
    SgEgressRule: {
      Type: 'AWS::Config::ConfigRule',
      Properties: configRuleProperties({
        ruleName: settings.ruleName,
        functionArn: { Ref: 'RuleFunctionArn' },
        maximumExecutionFrequency: settings.maximumExecutionFrequency,
        inputParameters: settings.ruleParameters,
      }),
    },
  };
  if (withRemediation) {
    parameters.RemediationRunbookName = {
      Type: 'String',
      Description: 'Name of the remediation runbook (output RemediationRunbook of the stack deployed with -c remediation=true)',
    };
    parameters.AutomationAssumeRoleArn = {
      Type: 'String',
      Description: 'ARN of the role the runbook runs as (it may only invoke the remediation function)',
    };
    resources.SgEgressRemediation = {
      Type: 'AWS::Config::RemediationConfiguration',
      DependsOn: 'SgEgressRule',
      Properties: remediationProperties({
        ruleName: settings.ruleName,
        documentName: { Ref: 'RemediationRunbookName' },
        automationRoleArn: { Ref: 'AutomationAssumeRoleArn' },
        automatic: settings.automaticRemediation,
        dryRun: settings.remediationDryRun,
        keepEgress: settings.remediationKeepEgress,
        maximumAutomaticAttempts: settings.remediationMaximumAutomaticAttempts,
        retryAttemptSeconds: settings.remediationRetryAttemptSeconds,
      }),
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'sg-egress-rule: security groups whose egress opens all traffic, all TCP or all UDP ports to the internet',
    Parameters: parameters,
    Resources: resources,
  };
}
