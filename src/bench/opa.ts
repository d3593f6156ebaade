import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface OpaSidecar {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The opa binary: the given path, else what scripts/opa.sh prints (it builds the pinned version once). */
export function resolveOpa(given: string | undefined): string {
  if (given) return given;
  try {
    return execFileSync('bash', ['scripts/opa.sh'], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (cause) {
    throw new Error('scripts/opa.sh could not provide opa: run `make deps`, or pass --opa / TOOLGATE_OPA', { cause });
  }
}

export function opaVersion(opa: string): string | null {
  try {
    return /^Version:\s*(\S+)/m.exec(execFileSync(opa, ['version'], { encoding: 'utf8', timeout: 10_000 }))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks; released before OPA binds it, hence the retry in startOpa). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

/**
 * `opa run --server` on 127.0.0.1 serving `policyDir` (Rego without tests, plus data.json), no version check,
 * no decision logs; resolves once /health answers. Stopped with SIGTERM (SIGKILL after 5 s), and killed with
 * this process if the harness exits first.
 */
export async function startOpa(opa: string, policyDir: string, timeoutMs = 30_000, attempts = 3): Promise<OpaSidecar> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(opa, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--skip-version-check', '--log-level', 'error', policyDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => {
      gone = true;
      process.removeListener('exit', onExit);
    });
    const deadline = Date.now() + timeoutMs;
    while (!gone && Date.now() < deadline && !(await healthy(url))) await new Promise((r) => setTimeout(r, 100));
    const stop = async () => {
      if (gone) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    };
    if (!gone && (await healthy(url))) return { url, pid: child.pid ?? -1, stop };
    await stop();
    const why = stderr.join('').slice(-2000);
    if (attempt < attempts && /address already in use/i.test(why)) continue;
    throw new Error(`opa run --server did not become healthy on ${url}: ${why || 'no output'}`);
  }
}
