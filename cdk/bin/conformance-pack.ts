#!/usr/bin/env node
/**
 * Writes the conformance pack template (YAML) to stdout, from cdk.json's
 * context and -c key=value overrides, so that it matches the stack:
 *
 *   npx tsx bin/conformance-pack.ts [--remediation | --organization] [-c key=value ...] > sg-egress-pack.yaml
 *
 * --remediation adds the remediation (an account pack; context remediation=true);
 * --organization writes the organization pack (context organization=true:
 * the rule carries ExecutionRoleName, the member role's name).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conformancePackYaml } from '../lib/conformance-pack';
import { SettingsError, settingsFromContext } from '../lib/settings';

const args = process.argv.slice(2);
const context: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context ?? {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--remediation') {
    context.remediation = true;
  } else if (args[i] === '--organization') {
    context.organization = true;
  } else if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]?.includes('=')) {
    const [key, ...rest] = args[++i].split('=');
    const value = rest.join('=');
    try {
      context[key] = JSON.parse(value);
    } catch {
      context[key] = value;
    }
  } else {
    console.error(`usage: conformance-pack.ts [--remediation | --organization] [-c key=value ...]; unexpected ${JSON.stringify(args[i])}`);
    process.exit(2);
  }
}
try {
  process.stdout.write(conformancePackYaml(settingsFromContext(context, 'pack')));
} catch (e) {
  if (e instanceof SettingsError) {
    console.error(`sg-egress-rule: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
