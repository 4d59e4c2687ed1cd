/**
 * The conformance pack template, generated from the same definitions as the
 * stack (definitions.ts), so the two cannot drift. The rule function must be
 * deployed already (a stack, best with functionOnly=true so that the account
 * does not get the rule twice); its ARN is a parameter of the pack.
 *
 * Two variants:
 * - account (`put-conformance-pack`): optionally with remediation, pointing at
 *   the runbook and automation role of a stack deployed in that same account
 *   with remediation=true. Config names a pack's rules itself
 *   (`<ConfigRuleName>-conformance-pack-<id>`), so the remediation passes the
 *   rule's real name (`Ref`) to the runbook, for the function to read that
 *   rule's current parameters.
 * - organization (`put-organization-conformance-pack`): always carries
 *   ExecutionRoleName (the member role), and names nothing of the
 *   administrator account but the function. No remediation: a member account
 *   has neither the runbook, nor the automation role, nor the remediation
 *   function the remediation configuration would name.
 */
import { stringify } from 'yaml';
import { configRuleProperties, remediationProperties } from './definitions';
import { Settings, SettingsError } from './settings';

/** Limits of PutConformancePack / PutOrganizationConformancePack. */
export const PACK_LIMITS = {
  /** TemplateBody, in bytes. */
  templateBodyBytes: 51_200,
  /** ConformancePackInputParameters. */
  inputParameters: 60,
} as const;

export function conformancePackTemplate(settings: Settings): Record<string, unknown> {
  if (settings.organization && settings.remediation) {
    throw new SettingsError('context remediation: the organization pack carries no remediation (member accounts have no runbook to run)');
  }
  if (settings.organization && !settings.ruleParameters.ExecutionRoleName) {
    throw new Error('the organization pack must carry ExecutionRoleName');
  }
  const parameters: Record<string, unknown> = {
    RuleFunctionArn: {
      Type: 'String',
      Description: `ARN of the sg-egress-rule function (output RuleFunctionArn of the ${settings.organization ? 'organization ' : ''}stack deployed with functionOnly=true)`,
      AllowedPattern: '^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$',
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
  if (settings.remediation) {
    parameters.RemediationRunbookName = {
      Type: 'String',
      Description: 'Name of the remediation runbook (output RemediationRunbook of the stack deployed in this account with remediation=true)',
    };
    parameters.AutomationAssumeRoleArn = {
      Type: 'String',
      Description: 'ARN of the role the runbook runs as (output AutomationAssumeRoleArn of the same stack)',
      AllowedPattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$',
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
        ruleNameForFunction: { Ref: 'SgEgressRule' },
      }),
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `sg-egress-rule${settings.organization ? ' (organization)' : ''}: security groups whose egress opens all traffic, all TCP or all UDP ports to the internet`,
    Parameters: parameters,
    Resources: resources,
  };
}

/**
 * What `put-organization-conformance-pack` needs besides the template, as
 * lines for stderr: the exact `--excluded-accounts` flag (the pack's rule
 * would fail in excluded accounts, which have no member role), and, with
 * `targetOus`, the warning that accounts outside those OUs have no member
 * role either.
 */
export function organizationPackNotes(settings: Settings): string[] {
  if (!settings.organization) return [];
  const notes =
    settings.excludedAccounts.length > 0
      ? [
          `pass ${excludedAccountsFlag(settings.excludedAccounts)} to put-organization-conformance-pack: ` +
            'excludedAccounts have no member role, and the pack\'s rule would fail there',
        ]
      : ['excludedAccounts is empty: put-organization-conformance-pack needs no --excluded-accounts'];
  if (settings.targetOus.length > 0) {
    notes.push(
      `targetOus: only the accounts of ${settings.targetOus.join(', ')} get the member role, but the pack covers every account ` +
        'of the organization that is not excluded: add the others to excludedAccounts (and so to --excluded-accounts), or their evaluations fail',
    );
  }
  return notes;
}

/** The AWS CLI flag that excludes these accounts (a list: values separated by spaces). */
export function excludedAccountsFlag(accounts: string[]): string {
  return `--excluded-accounts ${accounts.join(' ')}`;
}

/** The pack as YAML, checked against the limits of PutConformancePack. */
export function conformancePackYaml(settings: Settings): string {
  const template = conformancePackTemplate(settings);
  const yaml = stringify(template);
  const bytes = Buffer.byteLength(yaml);
  if (bytes > PACK_LIMITS.templateBodyBytes) {
    throw new SettingsError(`the conformance pack is ${bytes} bytes and a TemplateBody may be at most ${PACK_LIMITS.templateBodyBytes}`);
  }
  const count = Object.keys(template.Parameters as object).length;
  if (count > PACK_LIMITS.inputParameters) {
    throw new SettingsError(`the conformance pack has ${count} parameters and a pack takes at most ${PACK_LIMITS.inputParameters}`);
  }
  return yaml;
}
