/** Builds the app as `cdk synth` would, without bundling the Rust binary. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildApp, BuiltApp } from '../lib/app';

export interface Synthesized extends BuiltApp {
  readonly template: Template;
  readonly memberTemplate?: Template;
  /** Paths of the synthesized templates. */
  readonly files: string[];
}

export function synth(context: Record<string, unknown> = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-egress-cdk-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const built = buildApp(app);
  // Throws when cdk-nag reports a finding that is not acknowledged.
  const assembly = app.synth();
  return {
    ...built,
    template: Template.fromStack(built.stack),
    memberTemplate: built.memberRoleStack ? Template.fromStack(built.memberRoleStack) : undefined,
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
