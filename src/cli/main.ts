#!/usr/bin/env node
import type { Writable } from 'node:stream';
import { ToolgateError } from '../errors.js';
import { auditPubkey, auditTail, auditVerify, UsageError } from './audit.js';
import { policyEval, policyProfile, policySimulate } from './policy.js';
import { serve } from './serve.js';
import { directory, jwks, keygen, request, sign } from './identity.js';
import { breakGlassIssue, breakGlassKeygen } from './breakglass.js';

type Command = (argv: string[], out: Writable) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  'audit verify': { run: auditVerify, help: 'audit verify (--file F | --brokers B [--topic T]) [--keys JWKS | --key PEM] [--json]   check hash chains, signatures, gaps, order' },
  'audit tail': { run: auditTail, help: 'audit tail (--file F | --brokers B [--topic T]) [--follow] [--json]                      print audit events' },
  'audit pubkey': { run: auditPubkey, help: 'audit pubkey [--key-file .toolgate/audit-ed25519.pem]                                  the gateway audit key as JWKS' },
  keygen: { run: keygen, help: 'keygen [--out agent.key.json] [--alg ed25519] [--agent NAME] [--force] [--json]             make an agent key pair' },
  jwks: { run: jwks, help: 'jwks KEYFILE... [--agent NAME] [--label k=v]...                                         registry entries (public JWKS)' },
  directory: { run: directory, help: 'directory KEYFILE... [--authority HOST] [--serve [--port 0]]                          signed Web Bot Auth key directory' },
  sign: { run: sign, help: 'sign URL --key KEYFILE [-X POST] [-d JSON] [-H "N: v"]...                              print a signed request' },
  request: { run: request, help: 'request URL --key KEYFILE [-X POST] [-d JSON] [-H "N: v"]...                           send a signed request' },
  'breakglass keygen': { run: breakGlassKeygen, help: 'breakglass keygen [--key F] [--jwks F] [--force]                                       admin key for break-glass tokens' },
  'breakglass issue': { run: breakGlassIssue, help: 'breakglass issue --key admin.jwk --who W --why Y [--ttl 1h] --scope TOOL...            issue a token' },
  serve: { run: serve, help: 'serve                                                                                    run the gateway (config: TOOLGATE_CONFIG and env)' },
  'policy eval': { run: policyEval, help: 'policy eval [--bundle build/policy] (--input F | --event AUDIT_EVENT; - for stdin)       evaluate or replay a decision (exit 1: replay differs)' },
  'policy profile': { run: policyProfile, help: 'policy profile [--bundle build/policy] (--input F | --event AUDIT_EVENT) [--seconds 3] [--top 25] [--json]   where an evaluation\'s time goes, rule by rule' },
  'policy simulate': { run: policySimulate, help: 'policy simulate --candidate BUNDLE (--file F | --brokers B [--topic T]) [--since T] [--until T] [--max-changed N] [--json]   replay recorded decisions' },
};

export function registerCommand(name: string, run: Command, help: string): void {
  COMMANDS[name] = { run, help };
}

function usage(out: Writable): void {
  out.write('usage: toolgate <command>\n\n');
  for (const c of Object.values(COMMANDS)) out.write(`  toolgate ${c.help}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const name = [argv[0], argv[1]].join(' ');
  const command = COMMANDS[name] ?? COMMANDS[argv[0] ?? ''];
  if (!command) {
    usage(argv.length ? process.stderr : process.stdout);
    return argv.length ? 2 : 0;
  }
  const rest = COMMANDS[name] ? argv.slice(2) : argv.slice(1);
  try {
    return await command.run(rest, process.stdout);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`toolgate: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ToolgateError) {
      process.stderr.write(`toolgate: ${error.reason}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * A reader that stops early (`toolgate audit tail --file F | head`) closes the pipe, and the next write fails with
 * EPIPE. End at once and quietly, with the status a shell gives a command killed by SIGPIPE (128 + 13): not 0, so a
 * pipeline under `set -o pipefail` never takes an `audit verify` cut short for one that passed.
 */
const EXIT_BROKEN_PIPE = 141;

function exitOnBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT_BROKEN_PIPE);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.js')) {
  process.stdout.on('error', exitOnBrokenPipe);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`toolgate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
