#!/usr/bin/env node
/**
 * Writes the conformance pack template (YAML) to stdout, from cdk.json's
 * context and -c key=value overrides, so that it matches the stack:
 *
 *   npx tsx bin/conformance-pack.ts [--remediation | --organization] [-c key=value ...] > sg-egress-pack.yaml
 *
 * --remediation adds the remediation (an account pack; context remediation=true);
 * --organization writes the organization pack (context organization=true:
 * the rule carries ExecutionRoleName, the member role's name), and prints to
 * stderr the --excluded-accounts flag put-organization-conformance-pack needs
 * (and, with targetOus, which accounts have no member role).
 * Context values are text, as with the CDK CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conformancePackYaml, organizationPackNotes } from '../lib/conformance-pack';
import { SettingsError, settingsFromContext } from '../lib/settings';

const args = process.argv.slice(2);
const context: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context ?? {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--remediation') {
    context.remediation = true;
  } else if (args[i] === '--organization') {
    context.organization = true;
  } else if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]?.includes('=')) {
    // Values stay text, as the CDK CLI passes them (settings.ts reads text);
    // JSON.parse would turn an account id into a number and drop leading zeros.
    const [key, ...rest] = args[++i].split('=');
    context[key] = rest.join('=');
  } else {
    console.error(`usage: conformance-pack.ts [--remediation | --organization] [-c key=value ...]; unexpected ${JSON.stringify(args[i])}`);
    process.exit(2);
  }
}
try {
  const settings = settingsFromContext(context, 'pack');
  process.stdout.write(conformancePackYaml(settings));
  for (const note of organizationPackNotes(settings)) console.error(`sg-egress-rule: ${note}`);
} catch (e) {
  if (e instanceof SettingsError) {
    console.error(`sg-egress-rule: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
