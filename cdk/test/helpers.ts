/**
 * Builds the app as `cdk synth` would, without bundling the Rust binary, and
 * gives every test a temporary directory that is removed when its file's
 * tests end (scripts/test.mjs also fails the run if anything is left behind).
 */
import { after } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, BuiltApp } from '../lib/app';
import { FunctionMode } from '../lib/rule-function';

const made: string[] = [];

/** A fresh temporary directory, removed after this file's tests. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  made.push(dir);
  return dir;
}

after(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

export interface Synthesized extends BuiltApp {
  /** The first region's (or the only) rule stack. */
  readonly template: Template;
  /** Every rule stack's template, by stack id. */
  readonly templates: Record<string, Template>;
  /** The StackSet stack (organization mode). */
  readonly membersTemplate?: Template;
  /** The member template the StackSet deploys, parsed from its TemplateBody. */
  readonly memberTemplate?: Template;
  /** Paths of the synthesized templates (in a temporary directory). */
  readonly files: string[];
}

export function synth(context: Record<string, unknown> = {}): Synthesized {
  const outdir = tempDir('sg-egress-cdk');
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const built = buildApp(app);
  // Throws when cdk-nag reports a finding that is not acknowledged.
  const assembly = app.synth();
  const membersTemplate = built.membersStack ? Template.fromStack(built.membersStack) : undefined;
  let memberTemplate: Template | undefined;
  if (membersTemplate) {
    const stackSet = Object.values(membersTemplate.findResources('AWS::CloudFormation::StackSet'))[0];
    memberTemplate = Template.fromJSON(JSON.parse(stackSet.Properties.TemplateBody));
  }
  return {
    ...built,
    template: Template.fromStack(built.stack),
    templates: Object.fromEntries(built.stacks.map((s) => [s.node.id, Template.fromStack(s)])),
    membersTemplate,
    memberTemplate,
    files: assembly.stacks.map((s) => s.templateFullPath),
  };
}

/** The actions of every statement of every policy attached to the role, by logical id. */
export function roleActions(template: Template, roleLogicalId: string): string[] {
  const actions: string[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles ?? []) as Array<{ Ref: string }>;
    if (!roles.some((r) => r.Ref === roleLogicalId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      actions.push(...[statement.Action].flat());
    }
  }
  return actions.sort();
}

export function logicalId(template: Template, type: string, match: (props: Record<string, unknown>) => boolean): string {
  const found = Object.entries(template.findResources(type)).filter(([, r]) => match(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
}

/** The role of the function whose environment has SG_EGRESS_MODE=mode. */
export function functionRole(template: Template, mode: FunctionMode): string {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.SG_EGRESS_MODE === mode,
  );
  if (!fn) throw new Error(`no ${mode} function`);
  return fn.Properties.Role['Fn::GetAtt'][0];
}

/** The SDK actions (ec2:, config:, sts:) granted to a role, without the platform's (logs:, sqs:). */
export function sdkActions(template: Template, roleLogicalId: string): string[] {
  return [...new Set(roleActions(template, roleLogicalId).filter((a) => /^(ec2|config|sts):/.test(a)))].sort();
}

/** An ELF header claiming the given e_machine: enough for the synth's architecture check. */
export function fakeElf(machine: number): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little endian
  header[6] = 1; // version
  header.writeUInt16LE(2, 16); // ET_EXEC
  header.writeUInt16LE(machine, 18);
  return header;
}

/**
 * The regular expression an `ArnLike` pattern of the member template (the
 * text of its `Fn::Sub`) stands for, in the aws partition, with the
 * administrator account substituted: `*` is any run of characters, `?` one.
 */
export function trustedPrincipalPattern(sub: string, administratorAccountId: string): RegExp {
  const arn = sub.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AdministratorAccountId}', administratorAccountId);
  if (arn.includes('${')) throw new Error(`unresolved variable in ${sub}`);
  const source = [...arn].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^$()|[\]\\{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`);
}
