import { ToolgateError } from '../errors.js';
import type { MessageView } from './components.js';
import { resolveOptions, type Configuration } from './config.js';
import { KeyRegistry } from './registry.js';
import { fieldValue, parseSignatureFields, type FieldLimits, type SignatureCandidate } from './signature-fields.js';
import { prepareSignatures, verifySignatures, type Profile, type ResolvedKey } from './verify-signatures.js';
import { createCavageVerifier } from './cavage.js';
import { createDirectoryCache, webBotAuthProfile, type WebBotAuthDeps } from './web-bot-auth.js';
import { IdentityError, type IdentityOptions, type PendingAgent, type RequestFacts, type VerifiedAgent, type Verifier } from './types.js';

/**
 * Builds the identity stage: reads and imports the key registry once, then verifies requests. Every failure of a
 * request is an IdentityError with a contract reason code (or UnavailableError when the replay store is down).
 */
export async function createVerifier(options: Readonly<IdentityOptions>): Promise<Verifier> {
  const config = resolveOptions(options);
  const registry = await KeyRegistry.load(config.registryFiles, config.registrySources, { revoked: config.revoked, production: config.production });
  const limits: FieldLimits = { maxHeaderBytes: config.maxHeaderBytes, maxSignatures: config.maxSignatures, maxComponents: 64 };
  const wba: WebBotAuthDeps | undefined = config.webBotAuth === undefined ? undefined : {
    config: config.webBotAuth,
    cache: createDirectoryCache(config.webBotAuth, config.clockSkewMs, config.now),
    isRevoked: (thumbprint) => registry.isRevoked(thumbprint),
    production: config.production,
    maxHeaderBytes: config.maxHeaderBytes,
  };

  const verifyCavage = config.cavage === undefined ? undefined : createCavageVerifier({ config: config.cavage, registry, clockSkewMs: config.clockSkewMs, maxAgeMs: config.maxAgeMs, nonceStore: config.nonceStore });

  const verifyRfc9421 = async (request: RequestFacts, view: MessageView, signatureInput: string, nowMs: number, deferrable: boolean): Promise<VerifiedAgent | PendingAgent> => {
    const signature = fieldValue(request.headers, 'signature', config.maxHeaderBytes, 'rfc9421');
    const candidates = parseSignatureFields(signatureInput, signature, limits, 'rfc9421');
    const local: Profile = { scheme: 'rfc9421', policy: config.rfc9421, resolveKey: async (candidate) => localKey(registry, candidate, nowMs) };
    // A signature tagged web-bot-auth is judged by that profile when it is enabled; every other one by the registry.
    const botAuth = wba === undefined ? undefined : webBotAuthProfile(wba, request.headers, nowMs);
    return (deferrable ? prepareSignatures : verifySignatures)(candidates, {
      view,
      body: request.rawBody,
      labels: config.labels,
      profileFor: (candidate) => (botAuth !== undefined && candidate.params.tag === 'web-bot-auth' ? botAuth : local),
      clockSkewMs: config.clockSkewMs,
      maxAgeMs: config.maxAgeMs,
      nonceStore: config.nonceStore,
      nowMs,
      now: config.now,
    });
  };

  const verify = async (request: RequestFacts, deferrable: boolean): Promise<VerifiedAgent | PendingAgent> => {
    const view = messageView(request);
    const nowMs = config.now();
    const signatureInput = fieldValue(request.headers, 'signature-input', config.maxHeaderBytes, 'rfc9421');
    // An RFC 9421 Signature-Input routes to RFC 9421 alone: http-signature's parser must never see such a request.
    if (signatureInput !== undefined) return verifyRfc9421(request, view, signatureInput, nowMs, deferrable);
    const authorization = fieldValue(request.headers, 'authorization', config.maxHeaderBytes, 'cavage');
    if (authorization !== undefined && /^signature\s/i.test(authorization)) {
      if (verifyCavage === undefined) throw new IdentityError('signature_missing', 'draft-cavage signatures (Authorization: Signature) are not accepted here: sign with RFC 9421 (Signature-Input, Signature)', { scheme: 'cavage' });
      return verifyCavage(request, authorization, nowMs);
    }
    // draft-cavage also allows its parameters in a Signature header (keyId="…",…), never with a Signature-Input.
    const cavageHeader = fieldValue(request.headers, 'signature', config.maxHeaderBytes, 'cavage');
    if (verifyCavage !== undefined && cavageHeader !== undefined && /^\s*keyId\s*=/i.test(cavageHeader)) return verifyCavage(request, cavageHeader, nowMs);
    if (request.headers.signature !== undefined) throw new IdentityError('signature_malformed', 'Signature without Signature-Input: RFC 9421 needs both fields', { scheme: 'rfc9421' });
    throw new IdentityError('signature_missing', 'request is not signed: send Signature-Input and Signature (RFC 9421)');
  };

  const guarded = async (request: RequestFacts, deferrable: boolean): Promise<VerifiedAgent | PendingAgent> => {
    try {
      return await verify(request, deferrable);
    } catch (error) {
      if (error instanceof ToolgateError) throw error;
      // Hostile input must never surface as anything but a reason code; the cause keeps the detail for debugging.
      throw new IdentityError('signature_malformed', `request signature could not be processed: ${(error as Error)?.message ?? String(error)}`, { scheme: 'none' }, { cause: error });
    }
  };
  return {
    verify: (request) => guarded(request, false) as Promise<VerifiedAgent>,
    prepare: (request) => guarded(request, true),
    replayStore: () => config.nonceStore?.stats?.(),
    async close(): Promise<void> {
      if (config.ownsNonceStore) await config.nonceStore?.close?.();
    },
  };
}

function messageView(request: RequestFacts): MessageView {
  return { method: request.method, scheme: request.scheme, authority: request.authority, target: request.target, headers: request.headers };
}

function localKey(registry: KeyRegistry, candidate: SignatureCandidate, nowMs: number): ResolvedKey {
  const keyId = candidate.params.keyid ?? '';
  const found = registry.lookup(keyId, nowMs);
  if (!found.ok) throw new IdentityError(found.reason, `signature ${candidate.label}: ${found.message}`, { scheme: 'rfc9421', keyId });
  const { key } = found;
  return { agent: key.agent, thumbprint: key.thumbprint, alg: key.alg, check: key.check, labels: key.labels, replayScope: key.thumbprint };
}

export type { Configuration };
