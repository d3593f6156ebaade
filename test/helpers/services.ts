/**
 * The real services the integration tests use, from the environment `make test` exports. Under `make test`
 * (TOOLGATE_INTEGRATION=1) a missing service is a failure, never a skip: the suite must not pass without them.
 */
export interface Services {
  readonly kafkaBrokers: string[];
  readonly redisUrl: string;
  readonly otlpEndpoint: string;
  readonly jaegerQueryUrl: string;
  readonly opa: string;
}

export const integration = process.env.TOOLGATE_INTEGRATION === '1';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the integration tests through \`make test\`, which starts the services and exports it.`);
  return v;
}

/** Returns the services, or throws with a fix when not configured. */
export function services(): Services {
  return {
    kafkaBrokers: need('TOOLGATE_KAFKA_BROKERS').split(','),
    redisUrl: need('TOOLGATE_REDIS_URL'),
    otlpEndpoint: need('OTEL_EXPORTER_OTLP_ENDPOINT'),
    jaegerQueryUrl: need('TOOLGATE_JAEGER_QUERY_URL'),
    opa: need('TOOLGATE_OPA'),
  };
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes: no fixed sleeps. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
