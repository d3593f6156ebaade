import { createRequestSigner } from '../agent/sign-request.js';
import { IdentityError } from '../identity/types.js';
import { createVerifier } from '../identity/verifier.js';
import { publicJwk, type Jwk } from '../identity/jwk.js';

/** The verifier's default maxAgeMs is 300 s; signatures made before a round must outlive it. */
export const SIGNATURE_LIFETIME_S = 290;

/** Bounds the pool's memory (about 0.5 KB of header strings per entry). */
export const MAX_POOL = 200_000;

/**
 * Fresh signatures for the replay-protected gateway: every request carries its own nonce, so none can be reused.
 * They are made in a pool before each round, not in autocannon's setupRequest: signing (Ed25519 plus the
 * signature base) would otherwise run in the load generator during the measurement and take CPU from the server
 * on a 2-core machine. A round that outruns its pool signs the rest inline and says how many (`signedInline`).
 */
export class SignedRequests {
  readonly #sign: () => Record<string, string>;
  readonly #privateJwk: Jwk;
  readonly #url: URL;
  readonly #body: string;
  #pool: (Record<string, string> | undefined)[] = [];
  #next = 0;
  #inline = 0;

  constructor(privateJwk: Jwk, url: string, body: string) {
    this.#privateJwk = privateJwk;
    this.#url = new URL(url);
    this.#body = body;
    const signer = createRequestSigner({ privateJwk, expiresIn: SIGNATURE_LIFETIME_S });
    this.#sign = () => ({ ...signer({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }) });
  }

  /** Replaces the pool with `size` fresh signatures (capped at MAX_POOL); resets the inline count. */
  refill(size: number): void {
    const n = Math.min(MAX_POOL, Math.max(1, Math.ceil(size)));
    this.#pool = new Array<Record<string, string> | undefined>(n);
    for (let i = 0; i < n; i++) this.#pool[i] = this.#sign();
    this.#next = 0;
    this.#inline = 0;
  }

  /** The next unused signature's headers (the entry is dropped so the pool's memory shrinks as it is used). */
  readonly next = (): Record<string, string> => {
    if (this.#next < this.#pool.length) {
      const headers = this.#pool[this.#next]!;
      this.#pool[this.#next++] = undefined;
      return headers;
    }
    this.#inline++;
    return this.#sign();
  };

  get signedInline(): number {
    return this.#inline;
  }

  /**
   * What a fresh verifier in this process (the signer's own public key, no replay store, this clock) says of headers
   * this pool made, sent as the bench sends them: "verifies", or the refusal's reason and message. A refused bench
   * call whose headers verify here was misjudged by the server; one that fails here was signed or sent broken.
   */
  async checkOffline(headers: Readonly<Record<string, string>>): Promise<string> {
    const verifier = await createVerifier({ jwks: { keys: [{ ...publicJwk(this.#privateJwk), kid: this.#privateJwk.kid, agent: 'bench' }] } });
    const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    try {
      await verifier.verify({
        method: 'POST', target: `${this.#url.pathname}${this.#url.search}`, scheme: 'http', authority: this.#url.host,
        headers: { host: this.#url.host, 'content-type': 'application/json', ...lower }, rawBody: Buffer.from(this.#body),
      });
      return 'verifies';
    } catch (error) {
      return error instanceof IdentityError ? `${error.reason}: ${error.message}` : `fails: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}
