import type { IdentityError, RequestFacts, VerifiedAgent } from '../identity/types.js';
import type { ToolCall } from '../extract/types.js';
import type { ApprovalFacts, AttachmentFacts, BreakGlassFacts, Finding, PolicyInput, TimeFacts } from '../policy/types.js';

/** What an MCP service listed about the called tool (see gateway/mcp-tool-catalog.ts). */
export type ToolDefinitionInput = Pick<PolicyInput['tool'], 'annotations' | 'definition_sha256' | 'definition_known'>;

export interface InputParts {
  readonly facts: RequestFacts;
  readonly path: string;
  readonly bodySha256: string;
  readonly call: ToolCall;
  readonly agent: VerifiedAgent | null;
  readonly identityError?: IdentityError;
  readonly time: TimeFacts;
  readonly environment: string;
  readonly gatewayId: string;
  readonly attachments: readonly AttachmentFacts[];
  readonly findings: { readonly secrets: readonly Finding[]; readonly pii: readonly Finding[] };
  readonly approval: ApprovalFacts | null;
  readonly breakGlass: BreakGlassFacts | null;
  /** MCP calls: the tool's listed definition facts, merged into `input.tool`. */
  readonly definition?: ToolDefinitionInput;
}

/** Assembles the one JSON document a decision depends on. Pure: everything arrives resolved. */
export function buildInput(p: InputParts): PolicyInput {
  const a = p.agent;
  return {
    request: {
      method: p.facts.method,
      path: p.path,
      host: p.facts.authority,
      body_sha256: p.bodySha256,
      content_length: p.facts.rawBody.length,
    },
    agent: a
      ? {
          verified: true,
          scheme: a.scheme,
          id: a.id,
          key_id: a.keyId,
          thumbprint: a.thumbprint,
          signature_agent: a.signatureAgent ?? null,
          labels: a.labels,
        }
      : {
          verified: false,
          scheme: p.identityError?.claimed.scheme ?? 'none',
          id: null,
          key_id: p.identityError?.claimed.keyId ?? null,
          thumbprint: null,
          signature_agent: null,
          labels: {},
        },
    tool: p.definition ? { name: p.call.tool, protocol: p.call.protocol, ...p.definition } : { name: p.call.tool, protocol: p.call.protocol },
    args: p.call.args,
    resources: { attachments: p.attachments },
    findings: p.findings,
    context: { ...p.time, environment: p.environment, gateway_id: p.gatewayId },
    approval: p.approval,
    break_glass: p.breakGlass,
  };
}
