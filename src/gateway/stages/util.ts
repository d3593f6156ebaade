/** One value of a request header; a repeated header (joined or an array) is ambiguous and counts as absent. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const elapsedNs = (since: number): number => Math.round((performance.now() - since) * 1e6);
