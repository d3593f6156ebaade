import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ConfigError } from '../../src/errors.js';
import { ensureDemoAgents } from '../../src/demo/agents.js';
import { startTestGateway, POLICY_BUNDLE } from '../helpers/gateway.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A port some other process (here: a plain TCP server) already listens on. */
async function takenPort(): Promise<number> {
  const server = createServer();
  held.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('starting on a port that is taken', () => {
  it('startGateway rejects with port_in_use naming the port, EADDRINUSE and what to do', async () => {
    const port = await takenPort();
    const error = await startTestGateway({ PORT: String(port) }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ reason: 'port_in_use', message: expect.stringContaining(`127.0.0.1:${port}`) });
    expect((error as Error).message).toMatch(/EADDRINUSE.*set PORT to a free port/);
  });

  it('toolgate serve prints the reason and the fix, and exits 1 (not a TypeError, not a hang)', async () => {
    const port = await takenPort();
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-listen-'));
    const agents = ensureDemoAgents(join(dir, 'agents'));
    for (const [name, value] of Object.entries({ PORT: String(port), TOOLGATE_STATE_DIR: dir, TOOLGATE_POLICY_BUNDLE: POLICY_BUNDLE, TOOLGATE_AGENT_KEYS: agents.jwksFile })) vi.stubEnv(name, value);
    let stderr = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      expect(await main(['serve'])).toBe(1);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(stderr).toContain(`toolgate: port_in_use: cannot listen on 127.0.0.1:${port}`);
    expect(stderr).toMatch(/EADDRINUSE/);
    expect(stderr).not.toMatch(/Cannot read properties of null/);
  });
});
