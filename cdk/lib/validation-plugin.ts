/**
 * A CDK policy validation plugin for your own apps: at `cdk synth`, it runs
 * `sg-egress check` on every template the app synthesizes, and each group
 * the rule would find NON_COMPLIANT (and, with `strict`, each UNDETERMINED
 * one) is a violation of severity `error` in the CDK's validation report,
 * which fails the synth. Without `strict`, each UNDETERMINED group (open in
 * some deployments) is a violation of severity `warning`: reported, and the
 * synth goes on (unless the app sets the CDK's strict validation context).
 *
 *   import { SgEgressValidationPlugin } from 'sg-egress-rule-cdk/lib/validation-plugin';
 *   Validations.of(app).addPlugins(new SgEgressValidationPlugin({ parameters: { ExemptTagKey: 'egress-ok' } }));
 *
 * The command line does the judging (the rule's own decision, exemptions and
 * parameters), so the binary must be installed: `sg-egress` on the PATH, or
 * named by `binary` or the environment variable SG_EGRESS_BIN. It is run
 * without a shell, once per synth, with every template path at once.
 *
 * This file needs Node and aws-cdk-lib's types only (no runtime import), so
 * it may also be copied into an app as it is.
 */
import { spawnSync } from 'node:child_process';
import type {
  IPolicyValidationContextBeta1,
  IPolicyValidationPlugin,
  PolicyValidationPluginReportBeta1,
  PolicyViolationBeta1,
} from 'aws-cdk-lib';

export interface SgEgressValidationPluginOptions {
  /** The `sg-egress` binary. @default - the environment variable SG_EGRESS_BIN, else `sg-egress` on the PATH */
  readonly binary?: string;
  /** The rule's InputParameters (`ExemptTagKey`, `ExemptVpcIds`, `CheckIpv6`…), values as text, as the deployed rule gets them. @default - the rule's defaults */
  readonly parameters?: Record<string, string>;
  /** UNDETERMINED groups (open in some deployments) are violations too. @default false */
  readonly strict?: boolean;
}

/** One result of `sg-egress check --output json`. */
export interface CheckResult {
  readonly file: string;
  readonly line: number;
  readonly resource: string;
  readonly resourceType: string;
  readonly constructPath: string | null;
  readonly outcome: 'NON_COMPLIANT' | 'UNDETERMINED' | 'COMPLIANT' | 'NOT_EVALUATED';
  readonly annotation: string | null;
  readonly relatedLines: number[];
}

/**
 * The rules of `sg-egress check` (its SARIF rules), and the words of the
 * annotation that name each opening, in the order the check names them.
 */
export const CHECK_RULES = {
  SGE001: 'AllTrafficToTheInternet',
  SGE002: 'AllTcpPortsToTheInternet',
  SGE003: 'AllUdpPortsToTheInternet',
  SGE004: 'ImplicitDefaultEgress',
  SGE100: 'EgressUndetermined',
} as const;
export type CheckRuleId = keyof typeof CHECK_RULES;

const OPENINGS: Array<[string, CheckRuleId]> = [
  ['all traffic', 'SGE001'],
  ['all TCP ports', 'SGE002'],
  ['all UDP ports', 'SGE003'],
];

/** The exemption tag when the parameters name none (the rule's default ExemptTagKey). */
const DEFAULT_EXEMPT_TAG_KEY = 'sg-egress-exempt';

/**
 * The rule a result breaks: SGE100 when UNDETERMINED; SGE004 when what opens
 * it is CloudFormation's implicit default egress; otherwise the first
 * opening its annotation names (all traffic, all TCP ports, all UDP ports).
 */
export function ruleOf(result: CheckResult): CheckRuleId {
  if (result.outcome === 'UNDETERMINED') return 'SGE100';
  const annotation = result.annotation ?? '';
  if (annotation.includes('implicit default egress')) return 'SGE004';
  const named = OPENINGS.map(([words, id]) => [annotation.indexOf(words), id] as const).filter(([at]) => at >= 0);
  if (named.length === 0) {
    throw new Error(`sg-egress check: ${result.resource} (${result.file}:${result.line}) is ${result.outcome} with an annotation that names no opening: ${JSON.stringify(result.annotation)}`);
  }
  return named.sort((a, b) => a[0] - b[0])[0][1];
}

/** How to fix a result: the rule's recommended action, with the exemption tag it is deployed with. */
export function fixFor(outcome: CheckResult['outcome'], exemptTagKey: string): string {
  const exempt =
    `If the group must stay open (an egress proxy, a NAT instance), exempt it with the tag ${exemptTagKey} = ` +
    '"YYYY-MM-DD reason" (the last day the exemption holds, then why).';
  return outcome === 'UNDETERMINED'
    ? 'Whether the group is open depends on values known only at deployment (named in the description): restrict its egress so that it is ' +
        `closed whatever they are, to only the addresses, ranges and ports that require it. ${exempt}`
    : 'Restrict the group\'s egress to only the addresses, ranges and ports that require it: replace the rule that opens it with rules for ' +
        'each legitimate need (a protocol and port, to a specific CIDR block, security group or prefix list); a CloudFormation group ' +
        `with no SecurityGroupEgress keeps the implicit allow-all rule, so list the rules it needs. ${exempt}`;
}

/** One check result as a violation of the CDK's report. */
export function violationOf(result: CheckResult, exemptTagKey: string, severity: 'error' | 'warning' = 'error'): PolicyViolationBeta1 {
  const rule = ruleOf(result);
  const where = `line ${result.line}`;
  return {
    ruleName: `${rule} ${CHECK_RULES[rule]}`,
    description: result.annotation ?? CHECK_RULES[rule],
    fix: fixFor(result.outcome, exemptTagKey),
    // The CDK fails the synth on a report that is not a success, and a
    // `warning` beside a success only when the app asks for strict
    // validation: errors are what the check refuses, warnings what it cannot
    // decide before deployment.
    severity,
    violatingResources: [
      {
        resourceLogicalId: result.resource,
        templatePath: result.file,
        locations: [
          result.constructPath ? `${result.constructPath} (${where})` : where,
          ...result.relatedLines.map((line) => `line ${line} (opens the group together with ${where})`),
        ],
      },
    ],
  };
}

export class SgEgressValidationPlugin implements IPolicyValidationPlugin {
  readonly name = 'sg-egress';
  readonly version = '0.1.0';
  readonly ruleIds: string[] = Object.keys(CHECK_RULES);
  private readonly binary: string;
  private readonly parameters?: Record<string, string>;
  private readonly strict: boolean;

  constructor(options: SgEgressValidationPluginOptions = {}) {
    this.binary = options.binary ?? process.env.SG_EGRESS_BIN ?? 'sg-egress';
    this.parameters = options.parameters;
    this.strict = options.strict ?? false;
  }

  /** Runs the check on the templates; a check that cannot run, or answers out of its contract, throws (the CDK reports the plugin as failed). */
  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    if (context.templatePaths.length === 0) return { success: true, violations: [], pluginVersion: this.version };
    const args = [
      'check',
      '--output',
      'json',
      ...(this.strict ? ['--strict'] : []),
      ...(this.parameters !== undefined ? ['--parameters', JSON.stringify(this.parameters)] : []),
      ...context.templatePaths,
    ];
    const run = spawnSync(this.binary, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, shell: false });
    const stderr = (run.stderr ?? '').trim();
    if (run.error) {
      throw new Error(
        `could not run ${this.binary} (${run.error.message}): put sg-egress on the PATH (cargo install … --bin sg-egress, see the README), ` +
          'or name it with the plugin\'s binary option or SG_EGRESS_BIN',
      );
    }
    if (run.status !== 0 && run.status !== 1) {
      const how = run.status === null ? `was stopped by ${run.signal}` : `exited with ${run.status}`;
      throw new Error(`${this.binary} check ${how}${stderr ? `: ${stderr}` : ''}`);
    }
    let results: CheckResult[];
    try {
      results = JSON.parse(run.stdout);
    } catch (e) {
      throw new Error(`${this.binary} check printed no JSON (${(e as Error).message})${stderr ? `: ${stderr}` : ''}`);
    }
    if (!Array.isArray(results)) throw new Error(`${this.binary} check printed JSON that is not a list of results`);
    const judged = results.filter((r) => r.outcome === 'NON_COMPLIANT' || (this.strict && r.outcome === 'UNDETERMINED'));
    // Exit 1 exactly when something is NON_COMPLIANT (or, with --strict, UNDETERMINED).
    if ((judged.length > 0) !== (run.status === 1)) {
      throw new Error(`${this.binary} check exited with ${run.status} but reported ${judged.length} violation(s): its output is not what this plugin reads`);
    }
    const exemptTagKey = this.parameters?.ExemptTagKey?.trim() || DEFAULT_EXEMPT_TAG_KEY;
    const notEvaluated = results.filter((r) => r.outcome === 'NOT_EVALUATED');
    const undecided = this.strict ? [] : results.filter((r) => r.outcome === 'UNDETERMINED');
    return {
      success: judged.length === 0,
      violations: [
        ...judged.map((result) => violationOf(result, exemptTagKey)),
        ...undecided.map((result) => violationOf(result, exemptTagKey, 'warning')),
      ],
      pluginVersion: this.version,
      metadata: {
        binary: this.binary,
        ...(notEvaluated.length > 0
          ? { notEvaluated: notEvaluated.map((r) => `${r.file}: ${r.annotation ?? 'not evaluated'}`).join('; ') }
          : {}),
      },
    };
  }
}
