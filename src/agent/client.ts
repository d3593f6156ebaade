import type { Jwk } from '../identity/jwk.js';
import { createSignedFetch } from './signed-fetch.js';

export interface ToolResult {
  readonly status: number;
  readonly body: unknown;
  readonly decisionId: string | null;
  readonly headers: Headers;
}

export interface AgentClientOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;
  /** The agent's private JWK; omit for an unsigned client (to see what the gateway does without identity). */
  readonly privateJwk?: Jwk;
  readonly keyId?: string;
  /** Extra headers on every call (signed), e.g. traceparent. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A small agent: calls tools through the gateway over plain HTTP (`POST /tools/{name}`) or MCP (`tools/call`),
 * signing each request with its key. Used by the demo walkthrough and the tests.
 */
export class AgentClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Readonly<Record<string, string>>;
  #rpcId = 0;

  constructor(options: AgentClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#headers = options.headers ?? {};
    this.#fetch = options.privateJwk
      ? createSignedFetch({ privateJwk: options.privateJwk, ...(options.keyId ? { keyId: options.keyId } : {}) })
      : globalThis.fetch;
  }

  /** `POST /tools/{name}` with the arguments as JSON. */
  callTool(name: string, args: Record<string, unknown> = {}, headers: Readonly<Record<string, string>> = {}): Promise<ToolResult> {
    return this.#post(`/tools/${encodeURIComponent(name)}`, args, headers);
  }

  /** MCP `tools/call` over Streamable HTTP (`POST /mcp`). */
  callMcp(name: string, args: Record<string, unknown> = {}, headers: Readonly<Record<string, string>> = {}): Promise<ToolResult> {
    this.#rpcId += 1;
    return this.#post('/mcp', { jsonrpc: '2.0', id: this.#rpcId, method: 'tools/call', params: { name, arguments: args } }, {
      accept: 'application/json, text/event-stream',
      ...headers,
    });
  }

  /** Any signed request to the gateway (approvals API, uploads): JSON bodies are serialized, bytes sent as is. */
  async send(method: string, path: string, body?: unknown, headers: Readonly<Record<string, string>> = {}): Promise<ToolResult> {
    const bytes = body === undefined ? undefined : body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.#fetch(`${this.#base}${path}`, {
      method,
      headers: { ...(bytes !== undefined ? { 'content-type': body instanceof Uint8Array || typeof body === 'string' ? 'application/octet-stream' : 'application/json' } : {}), ...this.#headers, ...headers },
      ...(bytes !== undefined ? { body: bytes } : {}),
    });
    return AgentClient.#result(res);
  }

  static async #result(res: Response): Promise<ToolResult> {
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, decisionId: res.headers.get('toolgate-decision-id'), headers: res.headers };
  }

  async #post(path: string, payload: unknown, headers: Readonly<Record<string, string>>): Promise<ToolResult> {
    const res = await this.#fetch(`${this.#base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.#headers, ...headers },
      body: JSON.stringify(payload),
    });
    return AgentClient.#result(res);
  }
}
