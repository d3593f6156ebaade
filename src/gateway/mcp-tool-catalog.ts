import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.js';

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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

export interface ToolCatalogOptions {
  /** Most definitions kept; the least recently listed are forgotten first (they become unknown). Default 10,000. */
  readonly maxTools?: number;
}

/**
 * The MCP service's tool definitions as this gateway last saw them listed (from the tools/list answers it
 * passes through), by tool name. The latest listing wins: a definition that changes is seen on the next list,
 * and its new digest no longer matches an approval granted for the old one. Bounded: a service listing more
 * than `maxTools` tools pushes the oldest out, and those are judged as unknown (the spec's defaults) again.
 */
export class ToolCatalog {
  readonly #max: number;
  readonly #tools = new Map<string, ToolDefinitionFacts>();

  constructor(options: ToolCatalogOptions = {}) {
    const max = options.maxTools ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`maxTools must be a positive integer, got ${String(max)}`);
    this.#max = max;
  }

  /** Takes in the `tools` array of one tools/list answer (a page); entries without a string name are ignored. */
  learn(tools: readonly unknown[]): void {
    for (const tool of tools) {
      if (!isObject(tool) || typeof tool.name !== 'string') continue;
      const facts = definitionFacts(tool);
      if (!facts.definition_known) continue;
      this.#tools.delete(tool.name); // re-inserted last: Map order is the eviction order
      this.#tools.set(tool.name, facts);
      if (this.#tools.size > this.#max) this.#tools.delete(this.#tools.keys().next().value as string);
    }
  }

  /** The facts the policy gets for a call of `name`: the listed definition's, or the spec's defaults. */
  facts(name: string): ToolDefinitionFacts {
    return this.#tools.get(name) ?? UNKNOWN_TOOL;
  }

  get size(): number {
    return this.#tools.size;
  }
}
