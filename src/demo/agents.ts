import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAgentKey } from '../agent/keys.js';
import type { Jwk } from '../identity/jwk.js';

/** The demo's identities: agents per seed scenario (rego/data.json lists what each may call) and two humans. */
export const DEMO_AGENTS = [
  { id: 'receipts-bot', labels: { team: 'finance', scenario: 'receipts' } },
  { id: 'advisor', labels: { team: 'investments', scenario: 'rebalancing' } },
  { id: 'rebalancer', labels: { team: 'investments', scenario: 'rebalancing' } },
  { id: 'room-assistant', labels: { team: 'assistant', scenario: 'multi-user' } },
  // People, not agents: alice uploads the receipts, finance-lead approves what the policy sends to a human.
  { id: 'alice', labels: { kind: 'human' } },
  { id: 'finance-lead', labels: { kind: 'human', role: 'approver' } },
] as const;

export type DemoAgentId = (typeof DEMO_AGENTS)[number]['id'];

export interface DemoAgents {
  readonly jwksFile: string;
  readonly keys: Readonly<Record<DemoAgentId, Jwk>>;
}

/**
 * Makes (once) a key pair per demo agent under `dir`, and the registry JWKS the gateway loads: what an operator
 * does by hand with `toolgate keygen` and a JWKS file.
 */
export function ensureDemoAgents(dir: string): DemoAgents {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = {} as Record<DemoAgentId, Jwk>;
  const registry: Jwk[] = [];
  for (const agent of DEMO_AGENTS) {
    const file = join(dir, `${agent.id}.private.jwk.json`);
    let privateJwk: Jwk;
    let publicJwk: Jwk;
    if (existsSync(file)) {
      privateJwk = JSON.parse(readFileSync(file, 'utf8')) as Jwk;
      const { d: _d, ...pub } = privateJwk as Jwk & { d?: string };
      publicJwk = pub as Jwk;
    } else {
      const key = generateAgentKey();
      privateJwk = key.privateJwk;
      publicJwk = key.publicJwk;
      writeFileSync(file, JSON.stringify(privateJwk, null, 2), { mode: 0o600 });
    }
    keys[agent.id] = privateJwk;
    registry.push({ ...publicJwk, agent: agent.id, labels: agent.labels } as Jwk);
  }
  const jwksFile = join(dir, 'agents.jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: registry }, null, 2));
  return { jwksFile, keys };
}
