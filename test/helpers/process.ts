import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stderr: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `toolgate serve` (from dist/) as a child process and resolves once it prints its listening line. */
export async function spawnGateway(env: Record<string, string>, timeoutMs = 30_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve'], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in ${timeoutMs} ms: ${stderr.join('\n')}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${stderr.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { listening?: string };
        if (msg.listening) {
          clearTimeout(timer);
          resolve(msg.listening);
        }
      } catch {
        // not our line
      }
    });
  });
  return {
    url,
    child,
    stderr,
    kill: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Runs scripts/services.sh (the same script `make services` uses) for one service. */
export async function service(action: 'up' | 'down' | 'status', name: 'kafka' | 'jaeger' | 'redis'): Promise<void> {
  await exec('bash', ['scripts/services.sh', action, name], { timeout: 180_000 });
}
