import { Writable } from 'node:stream';
import { policySimulate } from '../../src/cli/policy.js';

/** Runs `toolgate policy simulate` as the CLI does (same argument parsing and output), capturing what it prints. */
export async function simulate(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  const code = await policySimulate(args, sink);
  return { code, out };
}
