/**
 * Optional remediation: a second deployment of the binary in remediation mode,
 * whose role alone may revoke egress; the SSM Automation runbook that invokes
 * it; and the Config remediation configuration (manual unless automatic),
 * except with `functionOnly`, where the conformance pack carries it.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { FUNCTION_ENVIRONMENT, remediationProperties, runbookContent } from './definitions';
import { RuleFunction } from './rule-function';
import { Settings } from './settings';

export class EgressRemediation extends Construct {
  readonly function: RuleFunction;
  readonly document: ssm.CfnDocument;
  readonly automationRole: iam.Role;
  readonly configuration?: CfnResource;

  constructor(scope: Construct, id: string, settings: Settings, rule: CfnResource | undefined) {
    super(scope, id);
    this.function = new RuleFunction(this, 'Function', {
      mode: 'remediation',
      architecture: settings.architecture,
      functionCodePath: settings.functionCodePath,
      logRetentionDays: settings.logRetentionDays,
      alarmTopicName: settings.alarmTopicName,
      // The function reads this rule's current parameters (DescribeConfigRules)
      // and judges as the rule does; a runbook's ConfigRuleName overrides it.
      environment: { [FUNCTION_ENVIRONMENT.ruleName]: settings.ruleName },
    });
    this.automationRole = new iam.Role(this, 'AutomationRole', {
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'sg-egress-rule remediation runbook: may only invoke the remediation function',
    });
    this.automationRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.function.functionArn] }),
    );
    this.document = new ssm.CfnDocument(this, 'Runbook', {
      documentType: 'Automation',
      documentFormat: 'YAML',
      content: runbookContent({ functionArn: this.function.function.functionArn }),
    });
    if (rule === undefined) return;
    this.configuration = new CfnResource(this, 'Configuration', {
      type: 'AWS::Config::RemediationConfiguration',
      properties: remediationProperties({
        ruleName: rule.ref,
        documentName: this.document.ref,
        automationRoleArn: this.automationRole.roleArn,
        automatic: settings.automaticRemediation,
        dryRun: settings.remediationDryRun,
        keepEgress: settings.remediationKeepEgress,
        maximumAutomaticAttempts: settings.remediationMaximumAutomaticAttempts,
        retryAttemptSeconds: settings.remediationRetryAttemptSeconds,
      }),
    });
  }
}
