/**
 * The app's configuration, read from CDK context (`cdk.json`, or `-c key=value`)
 * and validated at synth time: a bad value stops the synth with a message
 * naming the key, rather than deploying a rule that fails at run time.
 */
import { Construct, Node } from 'constructs';
import { FREQUENCIES, Frequency, HOOK_ALIAS_PATTERN, HOOK_FAILURE_MODES, HookFailureMode, hookAliases, PARAMETERS, ParameterName } from './definitions';

export interface Settings {
  readonly architecture: 'arm64' | 'x86_64';
  /** A directory holding a prebuilt `bootstrap`; otherwise the app runs `cargo lambda build`. */
  readonly functionCodePath?: string;
  readonly ruleName: string;
  readonly maximumExecutionFrequency: Frequency;
  readonly logRetentionDays: number;
  /** InputParameters of the rule, values as strings (what Config passes). */
  readonly ruleParameters: Record<string, string>;
  readonly remediation: boolean;
  readonly automaticRemediation: boolean;
  readonly remediationDryRun: boolean;
  readonly remediationKeepEgress: string;
  readonly remediationMaximumAutomaticAttempts: number;
  readonly remediationRetryAttemptSeconds: number;
  readonly organization: boolean;
  readonly organizationId?: string;
  readonly memberRoleName: string;
  readonly excludedAccounts: string[];
  /** Regions to deploy to, one stack each; empty: one stack for the CLI's default region. */
  readonly regions: string[];
  /** OUs (or the root) whose accounts receive the member role; empty: the organization root, looked up at deploy time. */
  readonly targetOus: string[];
  /** Deploying from a delegated administrator (StackSet CallAs DELEGATED_ADMIN), not the management account. */
  readonly delegatedAdmin: boolean;
  /**
   * With delegatedAdmin: the management account, which the organization rule
   * covers but StackSets never deploy to; it gets the member role from a
   * stack of its own (SgEgressRuleManagementMemberRole).
   */
  readonly managementAccountId?: string;
  /** Deploy the function(s) and the invoke permission but no rule: a conformance pack supplies the rule. */
  readonly functionOnly: boolean;
  /** Reserved concurrency of the organization rule function. */
  readonly reservedConcurrency: number;
  /** Name of an SNS topic, in each deployed region of the account, that the alarms notify. */
  readonly alarmTopicName?: string;
  /** Deploy the CloudFormation Lambda hooks (and their function) that judge groups before they are provisioned. */
  readonly hook: boolean;
  /** What CloudFormation does when the hook answers FAILED: WARN (go on, with a warning) or FAIL (stop). */
  readonly hookFailureMode: HookFailureMode;
}

/** CloudWatch Logs retention periods, in days. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** AWS Config's limit on ExcludedAccounts (OrganizationConfigRule, PutOrganizationConformancePack). */
export const EXCLUDED_ACCOUNTS_LIMIT = 1000;

export class SettingsError extends Error {}

function fail(key: string, message: string): never {
  throw new SettingsError(`context ${key}: ${message}`);
}

function asBoolean(key: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return fail(key, `expected true or false, found ${JSON.stringify(value)}`);
}

function asInteger(key: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    return fail(key, `expected a whole number from ${min} to ${max}, found ${JSON.stringify(value)}`);
  }
  return n;
}

function asString(key: string, value: unknown): string {
  if (typeof value !== 'string') return fail(key, `expected a string, found ${JSON.stringify(value)}`);
  return value;
}

const ID_PATTERNS: Record<string, RegExp> = {
  'sg-ids': /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/,
  'vpc-ids': /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/,
};

/**
 * Validates InputParameters with the same names, types and value rules as the
 * function (src/params.rs), so that a rule the function would reject never deploys.
 */
export function validateRuleParameters(raw: unknown): Record<string, string> {
  const key = 'ruleParameters';
  const value = typeof raw === 'string' ? parseJson(key, raw) : raw;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return fail(key, 'expected an object of InputParameters');
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!(name in PARAMETERS)) {
      const near = Object.keys(PARAMETERS).find((k) => k.toLowerCase() === name.toLowerCase());
      fail(`${key}.${name}`, `unknown parameter${near ? ` (did you mean ${near}? names are case-sensitive)` : ''}; known parameters are ${Object.keys(PARAMETERS).join(', ')}`);
    }
    const kind = PARAMETERS[name as ParameterName];
    const where = `${key}.${name}`;
    switch (kind) {
      case 'boolean':
        out[name] = String(asBoolean(where, v));
        break;
      case 'sg-ids':
      case 'vpc-ids': {
        const text = asString(where, v);
        for (const id of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
          if (!ID_PATTERNS[kind].test(id)) fail(where, `${JSON.stringify(id)} is not a valid id`);
        }
        out[name] = text;
        break;
      }
      case 'string': {
        const text = asString(where, v);
        if (text.startsWith('aws:')) fail(where, 'the aws: prefix is reserved');
        if ([...text].length > 128) fail(where, 'a tag key is at most 128 characters');
        out[name] = text;
        break;
      }
      case 'exposure-mode': {
        const text = asString(where, v).trim().toLowerCase();
        if (!['', 'annotate', 'off', 'relax-isolated'].includes(text)) fail(where, `expected annotate, off or relax-isolated, found ${JSON.stringify(v)}`);
        out[name] = text;
        break;
      }
      case 'role-name': {
        const text = asString(where, v).trim();
        if (text !== '' && !/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(text)) fail(where, `${JSON.stringify(text)} is not an IAM role name`);
        out[name] = text;
        break;
      }
    }
  }
  return out;
}

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(key, `not valid JSON: ${(e as Error).message}`);
  }
}

/** A list given as a JSON array or as comma-separated text (`-c regions=us-east-1,eu-west-1`). */
function asList(key: string, value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
    return fail(key, `expected a list (JSON array or comma-separated text), found ${JSON.stringify(value)}`);
  }
  const duplicate = list.find((v, i) => list.indexOf(v) !== i);
  if (duplicate !== undefined) fail(key, `${JSON.stringify(duplicate)} is listed twice`);
  return list as string[];
}

/** The partition a region belongs to. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** AWS Config's limit on a rule's InputParameters (ConfigRule and OrganizationConfigRule), in characters. */
export const INPUT_PARAMETERS_LIMIT = 1024;

/** Stops the synth when the rule's InputParameters exceed what AWS Config accepts. */
export function checkInputParametersLength(parameters: Record<string, string>): void {
  const length = JSON.stringify(parameters).length;
  if (length <= INPUT_PARAMETERS_LIMIT) return;
  const [largest] = Object.entries(parameters).sort((a, b) => b[1].length - a[1].length);
  fail(
    'ruleParameters',
    `InputParameters would be ${length} characters and AWS Config accepts at most ${INPUT_PARAMETERS_LIMIT}; ` +
      `the largest is ${largest[0]} (${largest[1].length} characters): exempt by tag or VPC instead of listing groups one by one`,
  );
}

/** What the settings are read for: the CDK app needs everything; the conformance pack generator only the rule's settings. */
export type Purpose = 'app' | 'pack';

/** Reads and validates every context key. */
export function readSettings(node: Node, purpose: Purpose = 'app'): Settings {
  const get = (key: string, fallback: unknown) => {
    const v = node.tryGetContext(key);
    return v === undefined ? fallback : v;
  };
  const architecture = asString('architecture', get('architecture', 'arm64'));
  if (architecture !== 'arm64' && architecture !== 'x86_64') fail('architecture', `expected arm64 or x86_64, found ${JSON.stringify(architecture)}`);
  const frequency = asString('maximumExecutionFrequency', get('maximumExecutionFrequency', 'TwentyFour_Hours'));
  if (!(FREQUENCIES as readonly string[]).includes(frequency)) {
    fail('maximumExecutionFrequency', `expected one of ${FREQUENCIES.join(', ')}, found ${JSON.stringify(frequency)}`);
  }
  const retention = asInteger('logRetentionDays', get('logRetentionDays', 90), 1, 3653);
  if (!RETENTION_DAYS.includes(retention)) fail('logRetentionDays', `expected one of ${RETENTION_DAYS.join(', ')}`);
  const ruleName = asString('ruleName', get('ruleName', 'sg-egress-rule'));
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(ruleName)) fail('ruleName', 'expected 1 to 64 letters, digits, - and _');
  const codePath = get('functionCodePath', undefined);
  const organization = asBoolean('organization', get('organization', false));
  const organizationId = get('organizationId', undefined);
  if (organizationId !== undefined && (typeof organizationId !== 'string' || !/^o-[a-z0-9]{10,32}$/.test(organizationId))) {
    fail('organizationId', `expected an organization id (o- and 10 to 32 lowercase letters or digits), found ${JSON.stringify(organizationId)}`);
  }
  if (organization && organizationId === undefined && purpose === 'app') {
    fail('organizationId', 'organization mode needs the organization id (o-…): aws organizations describe-organization --query Organization.Id');
  }
  const memberRoleName = asString('memberRoleName', get('memberRoleName', 'sg-egress-rule-member'));
  if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(memberRoleName)) fail('memberRoleName', 'not an IAM role name');
  const excludedAccounts = asList('excludedAccounts', get('excludedAccounts', []));
  if (!excludedAccounts.every((a) => /^[0-9]{12}$/.test(a))) fail('excludedAccounts', 'expected a list of 12-digit account ids');
  if (excludedAccounts.length > EXCLUDED_ACCOUNTS_LIMIT) {
    fail('excludedAccounts', `${excludedAccounts.length} accounts listed, and AWS Config's ExcludedAccounts takes at most ${EXCLUDED_ACCOUNTS_LIMIT}`);
  }
  const regions = asList('regions', get('regions', []));
  for (const region of regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/.test(region)) fail('regions', `${JSON.stringify(region)} is not a region name (like us-east-1)`);
  }
  if (new Set(regions.map(partitionOf)).size > 1) fail('regions', 'every region must be in one partition (aws, aws-cn or aws-us-gov)');
  if (organization && regions.length === 0 && purpose === 'app') {
    fail('regions', 'organization mode needs the regions the rule covers, e.g. -c regions=us-east-1,eu-west-1');
  }
  const targetOus = asList('targetOus', get('targetOus', []));
  for (const ou of targetOus) {
    if (!/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(ou)) {
      fail('targetOus', `${JSON.stringify(ou)} is neither an OU id (ou-…) nor a root id (r-…)`);
    }
  }
  if (targetOus.length > 0 && !organization) fail('targetOus', 'only for organization mode (organization=true)');
  const delegatedAdmin = asBoolean('delegatedAdmin', get('delegatedAdmin', false));
  if (delegatedAdmin && !organization) fail('delegatedAdmin', 'only for organization mode (organization=true)');
  const managementAccountId = get('managementAccountId', undefined);
  if (managementAccountId !== undefined) {
    if (typeof managementAccountId !== 'string' || !/^[0-9]{12}$/.test(managementAccountId)) {
      fail(
        'managementAccountId',
        `expected a 12-digit account id${typeof managementAccountId === 'number' ? ' as a string (ids may start with 0)' : ''}, found ${JSON.stringify(managementAccountId)}`,
      );
    }
    if (!delegatedAdmin) {
      fail('managementAccountId', 'only with delegatedAdmin=true (deployed from the management account, the function uses its own credentials there)');
    }
  }
  if (delegatedAdmin && managementAccountId === undefined && purpose === 'app') {
    fail(
      'managementAccountId',
      'with delegatedAdmin=true the organization rule also runs in the management account, where StackSets never deploy the member role; ' +
        'give its id (aws organizations describe-organization --query Organization.MasterAccountId) and the app adds a stack for it',
    );
  }
  const functionOnly = asBoolean('functionOnly', get('functionOnly', false));
  const reservedConcurrency = asInteger('reservedConcurrency', get('reservedConcurrency', 20), 1, 1000);
  const topic = get('alarmTopicName', undefined);
  if (topic !== undefined && (typeof topic !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(topic))) {
    fail('alarmTopicName', `expected the name of a standard SNS topic (letters, digits, - and _), found ${JSON.stringify(topic)}`);
  }
  const remediation = asBoolean('remediation', get('remediation', false));
  const automaticRemediation = asBoolean('automaticRemediation', get('automaticRemediation', false));
  if (automaticRemediation && !remediation) fail('automaticRemediation', 'needs remediation to be true');
  if (remediation && organization) {
    fail(
      'remediation',
      'an organization rule cannot carry a remediation configuration, and member accounts have no runbook to run; ' +
        'deploy the stack with remediation in each account that wants it (see the README)',
    );
  }
  const hook = asBoolean('hook', get('hook', false));
  const hookFailureMode = asString('hookFailureMode', get('hookFailureMode', 'WARN'));
  if (!(HOOK_FAILURE_MODES as readonly string[]).includes(hookFailureMode)) {
    fail('hookFailureMode', `expected ${HOOK_FAILURE_MODES.join(' or ')} (CloudFormation's FailureMode, in capitals), found ${JSON.stringify(hookFailureMode)}`);
  }
  if (hookFailureMode !== 'WARN' && !hook) fail('hookFailureMode', 'only with hook=true');
  if (hook && organization && purpose === 'app') {
    fail(
      'hook',
      'not with organization=true: a Lambda hook invokes a function in its own account only, so each member account and region would need ' +
        'its own hook, function and role, and the member template the StackSet deploys is plain CloudFormation that carries no function code ' +
        '(the function is a CDK asset of this account). Deploy the one-account stack with -c hook=true -c functionOnly=true in each account ' +
        'and region that wants the hook (functionOnly: no second rule beside the organization rule), with the same ruleParameters (see the README)',
    );
  }
  if (hook && !HOOK_ALIAS_PATTERN.test(hookAliases(ruleName).resource)) {
    fail('ruleName', `with hook=true the hooks' aliases are made of its letters and digits (${hookAliases(ruleName).resource}), and CloudFormation needs at least 2`);
  }
  const keep = asString('remediationKeepEgress', get('remediationKeepEgress', ''));
  if (keep !== '' && !/^(tcp|udp):[0-9]{1,5}(-[0-9]{1,5})?(,(tcp|udp):[0-9]{1,5}(-[0-9]{1,5})?)*$/.test(keep)) {
    fail('remediationKeepEgress', 'expected PROTOCOL:PORT[-PORT] items separated by commas, e.g. tcp:443,tcp:80');
  }
  const ruleParameters = validateRuleParameters(get('ruleParameters', {}));
  if (organization) {
    if (ruleParameters.ExecutionRoleName !== undefined && ruleParameters.ExecutionRoleName !== memberRoleName) {
      fail('ruleParameters.ExecutionRoleName', 'in organization mode it is set from memberRoleName; leave it out');
    }
    ruleParameters.ExecutionRoleName = memberRoleName;
  } else if (ruleParameters.ExecutionRoleName) {
    fail('ruleParameters.ExecutionRoleName', 'only for organization mode, where it is set from memberRoleName');
  }
  checkInputParametersLength(ruleParameters);
  return {
    architecture,
    functionCodePath: codePath === undefined ? undefined : asString('functionCodePath', codePath),
    ruleName,
    maximumExecutionFrequency: frequency as Frequency,
    logRetentionDays: retention,
    ruleParameters,
    remediation,
    automaticRemediation,
    remediationDryRun: asBoolean('remediationDryRun', get('remediationDryRun', true)),
    remediationKeepEgress: keep,
    remediationMaximumAutomaticAttempts: asInteger('remediationMaximumAutomaticAttempts', get('remediationMaximumAutomaticAttempts', 3), 1, 25),
    remediationRetryAttemptSeconds: asInteger('remediationRetryAttemptSeconds', get('remediationRetryAttemptSeconds', 60), 1, 2678000),
    organization,
    organizationId: organization ? (organizationId as string | undefined) : undefined,
    memberRoleName,
    excludedAccounts,
    regions,
    targetOus,
    delegatedAdmin,
    managementAccountId: managementAccountId as string | undefined,
    functionOnly,
    reservedConcurrency,
    alarmTopicName: topic as string | undefined,
    hook,
    hookFailureMode: hookFailureMode as HookFailureMode,
  };
}

/** Reads settings from a plain context object, with no CDK App (which would create an output directory). */
export function settingsFromContext(context: Record<string, unknown>, purpose: Purpose = 'app'): Settings {
  const root = new Construct(undefined as unknown as Construct, '');
  for (const [key, value] of Object.entries(context)) root.node.setContext(key, value);
  return readSettings(root.node, purpose);
}
