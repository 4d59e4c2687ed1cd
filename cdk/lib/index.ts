/**
 * The construct-library entry point of this package, for other CDK apps:
 * the validation plugin that runs `sg-egress check` at synth
 * (validation-plugin.ts). It exports nothing that builds this app.
 */
export { SgEgressValidationPlugin } from './validation-plugin';
export type { CheckResult, SgEgressValidationPluginOptions } from './validation-plugin';
