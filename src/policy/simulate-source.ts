import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { readTopic } from '../audit/topic-reader.js';
import type { AuditEvent } from '../audit/types.js';
import { ConfigError } from '../errors.js';

/** Where recorded decisions come from: a JSONL audit file, or the audit topic. */
export type SimulationSource = { readonly file: string } | { readonly brokers: readonly string[]; readonly topic: string; readonly timeoutMs?: number };

/** A line longer than this is not an audit event the gateway wrote (its inputs are capped far below): unreadable. */
const MAX_LINE = 64 * 1024 * 1024;
/** Read size: large enough that the syscalls cost nothing next to evaluation, small enough to stay bounded. */
const CHUNK = 1024 * 1024;
/** Default time a topic read may take (kafkajs has no end of topic; the reader stops at the offsets of its start). */
const TOPIC_TIMEOUT_MS = 3_600_000;

/**
 * Calls `onEvent` for every event of the source, in order, holding one chunk and one partial line at a time: a
 * file or topic of any length is read in bounded memory. Returns the torn-tail bytes of a file (after its last
 * newline: a write cut short by a crash, never acknowledged, so not an event).
 */
export async function eachRecordedEvent(source: SimulationSource, onEvent: (event: AuditEvent | null) => void): Promise<{ tornBytes: number }> {
  if ('file' in source) return eachFileEvent(source.file, onEvent);
  await readTopic({ brokers: source.brokers, topic: source.topic, timeoutMs: source.timeoutMs ?? TOPIC_TIMEOUT_MS }, (event) => onEvent(event));
  return { tornBytes: 0 };
}

async function eachFileEvent(path: string, onEvent: (event: AuditEvent | null) => void): Promise<{ tornBytes: number }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new ConfigError('simulation_source_unreadable', `Cannot open the audit file ${path} (${cause instanceof Error ? cause.message : String(cause)}): give the path of a JSONL audit file (the gateway's audit.file, TOOLGATE_AUDIT_FILE).`, { cause });
  }
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new ConfigError('simulation_source_unreadable', `The audit source ${path} is not a file: give the path of a JSONL audit file (the gateway's audit.file, TOOLGATE_AUDIT_FILE).`);
  }
  const stream = createReadStream('', { fd: fh, highWaterMark: CHUNK });
  // The start of a line whose end is in a later chunk, in pieces (joined once, not re-copied per chunk).
  let pieces: Buffer[] = [];
  let pending = 0;
  let skipping = false; // inside an over-long line: drop bytes up to its newline
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (skipping) skipping = false;
      else if (pending) emit(Buffer.concat([...pieces, chunk.subarray(start, nl)]).toString('utf8'), onEvent);
      else emit(chunk.toString('utf8', start, nl), onEvent);
      pieces = [];
      pending = 0;
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      pieces.push(chunk.subarray(start));
      pending += chunk.length - start;
      if (pending > MAX_LINE) {
        onEvent(null);
        pieces = [];
        pending = 0;
        skipping = true;
      }
    }
  }
  return { tornBytes: pending };
}

function emit(line: string, onEvent: (event: AuditEvent | null) => void): void {
  if (line.trim() === '') return;
  let event: AuditEvent | null;
  try {
    event = JSON.parse(line) as AuditEvent;
  } catch {
    event = null;
  }
  onEvent(event);
}
