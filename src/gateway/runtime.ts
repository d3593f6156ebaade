import { AuditLog } from '../audit/index.js';
import { timeFacts } from '../input/index.js';
import { bundleTimezone, loadBundle, PolicyEngine } from '../policy/index.js';
import { checkTimezone, type Configuration } from './options.js';
import type { Runtime } from './stages/context.js';

/**
 * Loads the policy (and its evaluator threads) and opens the audit log, once, at construction. Time windows in the
 * policy are written for its own timezone: that one is used unless the operator set one.
 */
export async function startRuntime(config: Configuration): Promise<Runtime> {
  const bundle = await loadBundle(config.bundle);
  const engine = await PolicyEngine.load(bundle, config.bundleName, config.engine);
  try {
    const timezone = config.timezone ?? bundleTimezone(bundle.data) ?? 'UTC';
    checkTimezone(timezone, config.timezone ? 'timezone' : 'the policy data\'s toolgate.config.timezone');
    const audit = await AuditLog.open(config.makeSink(), config.signingKey, config.gatewayId, { logger: config.logger });
    return { engine, audit, clock: timeFacts(timezone) };
  } catch (error) {
    await engine.close(); // its evaluator threads would outlive a failed start
    throw error;
  }
}
