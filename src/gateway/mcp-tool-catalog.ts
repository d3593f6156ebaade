import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.js';
import { isObject } from '../object.js';
import { BoundedMap } from './bounded-map.js';

/** MCP tool annotations (schema.ts `ToolAnnotations`), each with the spec's default when the service omits it. */
export interface ToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

/** What the policy learns about an MCP tool's definition: `input.tool.annotations`, `.definition_sha256`, `.definition_known`. */
export interface ToolDefinitionFacts {
  readonly annotations: ToolAnnotations;
  /** sha256 hex of the canonical JSON of the definition as the service listed it; null when the gateway has not seen it. */
  readonly definition_sha256: string | null;
  readonly definition_known: boolean;
}

/**
 * The spec's defaults: a tool that says nothing may change things (not read-only), destructively, not
 * idempotently, in an open world. They are also what an unknown tool gets, so that a call made before any
 * tools/list (or on a gateway that restarted) is judged as the most dangerous tool it could be.
 */
export const DEFAULT_ANNOTATIONS: ToolAnnotations = Object.freeze({
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
});

export const UNKNOWN_TOOL: ToolDefinitionFacts = Object.freeze({ annotations: DEFAULT_ANNOTATIONS, definition_sha256: null, definition_known: false });

/**
 * The facts of one listed definition. Only a JSON boolean counts as a hint: `"false"`, 0 or null leave the
 * default, so a sloppy service cannot loosen anything by accident. A definition that cannot be hashed (it never
 * came from JSON) is treated as unknown.
 */
export function definitionFacts(definition: unknown): ToolDefinitionFacts {
  if (!isObject(definition)) return UNKNOWN_TOOL;
  let digest: string;
  try {
    digest = createHash('sha256').update(canonicalJson(definition), 'utf8').digest('hex');
  } catch {
    return UNKNOWN_TOOL;
  }
  const given = isObject(definition.annotations) ? definition.annotations : {};
  const hint = (key: keyof ToolAnnotations): boolean => (typeof given[key] === 'boolean' ? (given[key] as boolean) : DEFAULT_ANNOTATIONS[key]);
  return {
    annotations: {
      readOnlyHint: hint('readOnlyHint'),
      destructiveHint: hint('destructiveHint'),
      idempotentHint: hint('idempotentHint'),
      openWorldHint: hint('openWorldHint'),
    },
    definition_sha256: digest,
    definition_known: true,
  };
}

/** A tool parameter the service asks clients to mirror in a `Mcp-Param-{header}` header (2026-07-28 `x-mcp-header`). */
export interface McpMirror {
  /** The name as declared (the header is `Mcp-Param-` + this); the catalog keys mirrors by its lower case. */
  readonly header: string;
  /** Property names from `arguments` down to the parameter. */
  readonly path: readonly string[];
  readonly type: 'string' | 'integer' | 'boolean';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_SCHEMA_DEPTH = 32;

/**
 * The mirrored parameters a tool's inputSchema declares, keyed by lower-cased header name. Only what the spec
 * allows counts: a token name on a `string`, `integer` or `boolean` property reached through `properties` alone.
 * A name declared twice (in any case) counts for neither: the gateway cannot tell which parameter it mirrors.
 */
export function declaredMirrors(inputSchema: unknown): ReadonlyMap<string, McpMirror> {
  const found = new Map<string, McpMirror>();
  const clashing = new Set<string>();
  const stack: { schema: unknown; path: string[] }[] = [{ schema: inputSchema, path: [] }];
  while (stack.length > 0) {
    const { schema, path } = stack.pop()!;
    if (!isObject(schema) || path.length > MAX_SCHEMA_DEPTH) continue;
    const declared = schema['x-mcp-header'];
    if (path.length > 0 && typeof declared === 'string' && TOKEN.test(declared) && (schema.type === 'string' || schema.type === 'integer' || schema.type === 'boolean')) {
      const key = declared.toLowerCase();
      if (found.has(key)) clashing.add(key);
      else found.set(key, { header: declared, path, type: schema.type });
    }
    if (!isObject(schema.properties)) continue;
    for (const [name, child] of Object.entries(schema.properties)) stack.push({ schema: child, path: [...path, name] });
  }
  for (const key of clashing) found.delete(key);
  return found;
}

export interface ToolCatalogOptions {
  /** Most definitions kept; the least recently listed are forgotten first (they become unknown). Default 10,000. */
  readonly maxTools?: number;
}

/**
 * The MCP service's tool definitions as this gateway last saw them listed (from the tools/list answers it
 * passes through), by tool name and by who listed them. A list may differ by the caller's authorization, so a
 * definition counts only for the agent whose list showed it, unless the service marked the answer
 * `cacheScope: "public"` (MCP 2026-07-28), which every agent then shares: no agent's calls are judged with a
 * definition another agent was shown. The latest listing wins: a definition that changes is seen on the next list,
 * and its new digest no longer matches an approval granted for the old one. Bounded: past `maxTools` the least
 * recently listed are forgotten and judged as unknown (the spec's defaults) again.
 */
export class ToolCatalog {
  readonly #tools: BoundedMap<{ readonly facts: ToolDefinitionFacts; readonly mirrors: ReadonlyMap<string, McpMirror> }>;

  constructor(options: ToolCatalogOptions = {}) {
    const max = options.maxTools ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`maxTools must be a positive integer, got ${String(max)}`);
    this.#tools = new BoundedMap(max);
  }

  /**
   * Takes in the `tools` array of one tools/list answer (a page) that `agent` was shown; `shared` when the answer
   * is `cacheScope: "public"`. Entries without a string name are ignored.
   */
  learn(tools: readonly unknown[], agent: string, shared = false): void {
    for (const tool of tools) {
      if (!isObject(tool) || typeof tool.name !== 'string') continue;
      const facts = definitionFacts(tool);
      if (!facts.definition_known) continue;
      this.#tools.set(key(shared ? null : agent, tool.name), { facts, mirrors: declaredMirrors(tool.inputSchema) });
    }
  }

  /** The facts the policy gets for `agent`'s call of `name`: from its own listing, else a public one, else the spec's defaults. */
  facts(name: string, agent: string): ToolDefinitionFacts {
    return this.#entry(name, agent)?.facts ?? UNKNOWN_TOOL;
  }

  /** The parameters a listed tool asks to be mirrored in `Mcp-Param-*` headers; undefined for a tool `agent` never saw listed. */
  mirrors(name: string, agent: string): ReadonlyMap<string, McpMirror> | undefined {
    return this.#entry(name, agent)?.mirrors;
  }

  #entry(name: string, agent: string) {
    return this.#tools.get(key(agent, name)) ?? this.#tools.get(key(null, name));
  }

  get size(): number {
    return this.#tools.size;
  }
}

/** Unambiguous for any agent id and tool name; null is the public scope. */
const key = (agent: string | null, name: string): string => JSON.stringify([agent, name]);
