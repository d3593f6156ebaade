import { Agent, request as httpRequest } from 'node:http';
import { UnavailableError } from '../errors.js';
import type { PolicyInput } from '../policy/index.js';

const DECISION_PATH = '/v1/data/toolgate/decision';

export interface OpaClient {
  /** POSTs `{input}` to OPA's Data API and resolves with `result` (undefined when OPA has none). */
  decide(input: PolicyInput): Promise<unknown>;
  close(): void;
}

/**
 * The decision call a service makes to an OPA sidecar, shared by both sidecar baselines. Keep-alive, as a sidecar
 * client would be configured: a new TCP connection per decision would be a straw man.
 */
export function opaClient(opaUrl: string): OpaClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const url = new URL(DECISION_PATH, opaUrl);
  const decide = (input: PolicyInput): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify({ input }));
      const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new UnavailableError('policy_unavailable', `OPA answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
          try {
            resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: unknown }).result);
          } catch (cause) {
            reject(new UnavailableError('policy_unavailable', 'OPA answered with a body that is not JSON.', { cause }));
          }
        });
        res.on('error', reject);
      });
      req.on('error', (cause) => reject(new UnavailableError('policy_unavailable', `OPA is unreachable: ${cause.message}`, { cause })));
      req.end(body);
    });
  return { decide, close: () => agent.destroy() };
}
