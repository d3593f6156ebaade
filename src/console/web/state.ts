import type { StoredKey } from './keys.js';

export interface Whoami {
  readonly agent: string;
  readonly key_id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly approver: boolean;
  readonly viewer: boolean;
  readonly jaeger_url: string | null;
}

/** What every view reads: the signed-in key and what the gateway said about it. */
export const session: { key: StoredKey | undefined; who: Whoami | undefined; refusal: string | undefined } = { key: undefined, who: undefined, refusal: undefined };
