#!/usr/bin/env node
/**
 * Writes the conformance pack template (YAML) to stdout, with the rule
 * parameters of cdk.json's context (and -c key=value overrides):
 *
 *   npx tsx bin/conformance-pack.ts [--remediation] [-c key=value ...] > sg-egress-pack.yaml
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { stringify } from 'yaml';
import { conformancePackTemplate } from '../lib/conformance-pack';
import { readSettings, SettingsError } from '../lib/settings';

const args = process.argv.slice(2);
const context: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context ?? {};
let remediation = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--remediation') {
    remediation = true;
  } else if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]?.includes('=')) {
    const [key, ...rest] = args[++i].split('=');
    const value = rest.join('=');
    try {
      context[key] = JSON.parse(value);
    } catch {
      context[key] = value;
    }
  } else {
    console.error(`usage: conformance-pack.ts [--remediation] [-c key=value ...]; unexpected ${JSON.stringify(args[i])}`);
    process.exit(2);
  }
}
try {
  const settings = readSettings(new App({ context }).node);
  process.stdout.write(stringify(conformancePackTemplate(settings, remediation)));
} catch (e) {
  if (e instanceof SettingsError) {
    console.error(`sg-egress-rule: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
