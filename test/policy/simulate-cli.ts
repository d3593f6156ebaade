import { Writable } from 'node:stream';
import { policySimulate } from '../../src/cli/policy.js';

/** Runs a CLI command's function as main() does (same argument parsing and output), capturing what it prints. */
export async function runCommand(command: (argv: string[], out: Writable) => number | Promise<number>, args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  const code = await command(args, sink);
  return { code, out };
}

/** Runs `toolgate policy simulate` as the CLI does, capturing what it prints. */
export function simulate(args: string[]): Promise<{ code: number; out: string }> {
  return runCommand(policySimulate, args);
}
