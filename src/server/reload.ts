import type { Toolgate } from '../gateway/types.js';
import type { Logger } from '../logger.js';
import type { RolloutStatus } from '../policy/rollout.js';
import type { ServerConfig } from './config.js';

/** Configuration keys a reload applies; every other change needs a restart. */
const ROLLOUT_KEYS = ['policyShadow', 'policyCanary'] as const;

/**
 * Applies the policy rollout of a reread configuration to a running gateway (`toolgate serve` on SIGHUP): the shadow
 * and canary candidates and their fractions — started, changed or dropped. A candidate that fails to load is not
 * started and the running one of its role stays (the error says why). Other changed keys are reported, not applied: they need a restart.
 */
export async function applyRollout(gate: Toolgate, running: ServerConfig, next: ServerConfig, logger: Logger): Promise<RolloutStatus> {
  const ignored = (Object.keys(next) as (keyof ServerConfig)[]).filter((k) => !(ROLLOUT_KEYS as readonly string[]).includes(k) && JSON.stringify(next[k]) !== JSON.stringify(running[k]));
  if (ignored.length) logger.warn('configuration reload: only the policy rollout (shadow and canary) is applied; restart to apply the rest', { changed: ignored });
  const control = gate.policyControl;
  const now = control.status();
  if (next.policyShadow) await control.setShadow(next.policyShadow);
  else if (now.shadow) await control.setShadow(null);
  if (next.policyCanary) await control.setCanary(next.policyCanary);
  else if (now.canary) await control.rollback();
  return control.status();
}

/**
 * A reload handler for a signal: rereads the configuration with `load` and applies its rollout, one reload at a time;
 * a configuration that does not parse, or a candidate that does not load, is logged and changes nothing.
 */
export function rolloutReloader(gate: Toolgate, initial: ServerConfig, load: () => ServerConfig, logger: Logger): () => Promise<RolloutStatus | undefined> {
  let running = initial;
  let queue: Promise<unknown> = Promise.resolve();
  return () => {
    const run = queue.then(async () => {
      try {
        const next = load();
        const status = await applyRollout(gate, running, next, logger);
        running = { ...next, ...Object.fromEntries(Object.entries(running).filter(([k]) => !(ROLLOUT_KEYS as readonly string[]).includes(k))) } as ServerConfig;
        logger.warn('configuration reloaded: policy rollout applied', { shadow: status.shadow && { revision: status.shadow.revision, source: status.shadow.source, fraction: status.shadow.fraction }, canary: status.canary && { revision: status.canary.revision, source: status.canary.source, fraction: status.canary.fraction } });
        return status;
      } catch (error) {
        const reason = (error as { reason?: string }).reason ?? 'config_reload_failed';
        logger.error('configuration reload failed; the policy rollout is unchanged', { reason, error: error instanceof Error ? error.message : String(error) });
        return undefined;
      }
    });
    queue = run;
    return run;
  };
}
