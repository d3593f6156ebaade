import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP bundle server on a free port, as a policy author publishes to: GET /bundles/toolgate serves the
 * current bundle.tar.gz with a strong ETag and answers 304 to a matching If-None-Match. `hang` makes it accept
 * and never answer; `status` answers that status instead of the bundle.
 */
export interface BundleServer {
  readonly url: string;
  readonly requests: { readonly headers: IncomingHttpHeaders; readonly status: number }[];
  serve(bytes: Buffer): void;
  token: string | undefined;
  hang: boolean;
  status: number | undefined;
  close(): Promise<void>;
}

export async function startBundleServer(initial: Buffer): Promise<BundleServer> {
  let bytes = initial;
  const etag = () => `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
  const state: Pick<BundleServer, 'token' | 'hang' | 'status' | 'requests'> = { token: undefined, hang: false, status: undefined, requests: [] };
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body?: Buffer) => {
      state.requests.push({ headers: req.headers, status });
      res.statusCode = status;
      if (status === 200) res.setHeader('etag', etag()).setHeader('content-type', 'application/gzip');
      res.end(body);
    };
    if (state.hang) return; // the client's timeout ends it
    if (req.url !== '/bundles/toolgate') return answer(404);
    if (state.token !== undefined && req.headers.authorization !== `Bearer ${state.token}`) return answer(401);
    if (state.status !== undefined) return answer(state.status);
    if (req.headers['if-none-match'] === etag()) return answer(304);
    answer(200, bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundles/toolgate`;
  return Object.assign(state, {
    url,
    serve: (next: Buffer) => void (bytes = next),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  });
}
