import { AuditLog } from '../audit/index.js';
import { ed25519 } from '../identity/ed25519.js';
import { timeFacts } from '../input/index.js';
import { ActivePolicy, type BundleSource, type CanaryPolicy, type PolicyEngine, type ShadowPolicy } from '../policy/index.js';
import type { TimeFacts } from '../policy/types.js';
import { PolicyMetrics } from '../telemetry/metrics.js';
import { checkTimezone, type Configuration } from './options.js';
import type { Runtime } from './stages/context.js';

/**
 * Loads the policy (and its evaluator threads, and its poller when configured) and opens the audit log, once, at
 * construction. Time windows in the policy are written for its own timezone: the active revision's is used unless
 * the operator set one.
 */
export async function startRuntime(config: Configuration): Promise<Runtime> {
  const activations = new PolicyMetrics().activations;
  const crypto = ed25519();
  if (crypto.fallbackReason) config.logger.warn('Ed25519 runs on node:crypto (about twice the CPU of libsodium): sodium-native could not be used', { reason: crypto.fallbackReason });
  const start = (source: BundleSource, role: 'active' | 'shadow' | 'canary') => ActivePolicy.start({
    source,
    role,
    ...(config.verification ? { verification: config.verification } : {}),
    name: config.bundleName,
    engine: config.engine,
    ...(config.polling ? { polling: config.polling } : {}),
    logger: config.logger,
    activations,
  });
  const policy = await start(config.bundleSource, 'active');
  let shadow: ShadowPolicy | undefined;
  let canary: CanaryPolicy | undefined;
  try {
    // A candidate that cannot load fails the start like the active policy: the operator asked for it.
    if (config.shadow) shadow = { policy: await start(config.shadow.source, 'shadow'), fraction: config.shadow.fraction };
    if (config.canary) canary = { policy: await start(config.canary.source, 'canary'), fraction: config.canary.fraction };
    const clock = clocks(config.timezone, policy);
    clock(0); // checks the first revision's timezone now: a bad one fails the start
    const audit = await AuditLog.open(config.makeSink(), config.signingKey, config.gatewayId, { logger: config.logger });
    return {
      policy,
      get engine(): PolicyEngine {
        return policy.engine;
      },
      audit,
      clock,
      ...(shadow ? { shadow } : {}),
      ...(canary ? { canary } : {}),
    };
  } catch (error) {
    await policy.close(); // its evaluator threads and poller would outlive a failed start
    await shadow?.policy.close();
    await canary?.policy.close();
    throw error;
  }
}

/** Time facts in the operator's timezone, else the active revision's (one formatter per zone, made once). */
function clocks(operator: string | undefined, policy: ActivePolicy): (nowMs: number) => TimeFacts {
  if (operator) {
    checkTimezone(operator, 'timezone');
    return timeFacts(operator);
  }
  const byZone = new Map<string, (nowMs: number) => TimeFacts>();
  return (nowMs) => {
    const zone = policy.timezone ?? 'UTC';
    let clock = byZone.get(zone);
    if (!clock) {
      checkTimezone(zone, 'the policy data\'s toolgate.config.timezone');
      byZone.set(zone, (clock = timeFacts(zone)));
    }
    return clock(nowMs);
  };
}
