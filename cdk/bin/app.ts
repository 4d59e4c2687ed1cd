#!/usr/bin/env node
/** The CDK app: `npx cdk synth` / `npx cdk deploy`; configuration through context (see the README). */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { SettingsError } from '../lib/settings';

try {
  buildApp(new App());
} catch (e) {
  if (e instanceof SettingsError) {
    console.error(`sg-egress-rule: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
