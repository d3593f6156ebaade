import type { StoredKey } from './keys.js';
import { setClockOffset, signatureHeaders } from './sign.js';
import { takeEvents } from './sse-parse.js';

export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T & { readonly reason?: string; readonly message?: string };
}

const CLOCK_REASONS = new Set(['signature_expired', 'signature_not_yet_valid']);

/**
 * One signed call to the gateway (the console's API or the Approvals API), answered as JSON. A refusal because this
 * computer's clock is off is retried once with the gateway's clock (its Date header), so a laptop minutes off still
 * signs in; a signature is never sent for longer than its 60 s.
 */
export async function call<T = Record<string, unknown>>(key: StoredKey, method: string, path: string, json?: unknown): Promise<ApiAnswer<T>> {
  const first = await callOnce<T>(key, method, path, json);
  if (first.status !== 401 || !CLOCK_REASONS.has(first.body.reason ?? '') || first.date === null) return first;
  const serverMs = Date.parse(first.date);
  if (!Number.isFinite(serverMs)) return first;
  setClockOffset(serverMs - Date.now());
  return callOnce<T>(key, method, path, json);
}

async function callOnce<T>(key: StoredKey, method: string, path: string, json?: unknown): Promise<ApiAnswer<T> & { date: string | null }> {
  const url = new URL(path, location.origin);
  const body = json === undefined ? undefined : { text: JSON.stringify(json), type: 'application/json' };
  const headers = await signatureHeaders(key, method, url, body);
  const res = await fetch(url, { method, headers, body: body?.text, credentials: 'omit', cache: 'no-store' });
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    parsed = { reason: 'bad_answer', message: `The gateway answered ${res.status} without JSON.` };
  }
  return { status: res.status, body: parsed as ApiAnswer<T>['body'], date: res.headers.get('date') };
}

export interface StreamHandlers {
  onEvent(event: string, data: unknown): void;
  /** The stream is (re)connected, or failed with a refusal the page should show (then it retries later). */
  onState(state: 'open' | 'retrying' | 'refused', detail?: string): void;
}

/**
 * A server-sent event stream over a signed fetch (EventSource cannot send the signature headers). Reconnects with a
 * fresh signature when the server ends it (it does every few minutes) or the connection drops, backing off on
 * failures; stops when `signal` aborts.
 */
export function openStream(key: StoredKey, path: string, handlers: StreamHandlers, signal: AbortSignal): void {
  let delay = 500;
  const run = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const url = new URL(path, location.origin);
        const res = await fetch(url, { headers: { ...(await signatureHeaders(key, 'GET', url)), accept: 'text/event-stream' }, signal, credentials: 'omit', cache: 'no-store' });
        if (!res.ok || res.body === null) {
          const body = (await res.json().catch(() => ({}))) as { reason?: string; message?: string };
          handlers.onState('refused', `${res.status} ${body.reason ?? ''}: ${body.message ?? ''}`);
          delay = Math.min(delay * 2, 30_000);
        } else {
          handlers.onState('open');
          delay = 500;
          await readEvents(res.body as ReadableStream<BufferSource>, handlers.onEvent);
        }
      } catch (error) {
        if (signal.aborted) return;
        handlers.onState('retrying', error instanceof Error ? error.message : String(error));
        delay = Math.min(delay * 2, 30_000);
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();
}

async function readEvents(body: ReadableStream<BufferSource>, onEvent: (event: string, data: unknown) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const { events, rest } = takeEvents(buffer + value);
    buffer = rest;
    for (const e of events) onEvent(e.event, e.data);
  }
}
