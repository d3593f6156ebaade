import { createServer, type RequestListener, type Server } from 'node:http';
import { ConfigError } from '../errors.js';

/** What to tell the operator for the listen errors they can cause and fix. */
const HINTS: Readonly<Record<string, (where: string, port: number) => string>> = {
  EADDRINUSE: (where, port) => `${where} is already in use (EADDRINUSE): stop the process listening there (\`ss -ltnp 'sport = :${port}'\` shows it) or set PORT to a free port`,
  EACCES: (where, port) => `${where} needs privileges this process lacks (EACCES): use a port above 1023 (PORT=${port < 1024 ? 8080 : port}) or grant CAP_NET_BIND_SERVICE`,
  EADDRNOTAVAIL: (where) => `${where} is not an address of this machine (EADDRNOTAVAIL): set TOOLGATE_HOST to a local address such as 127.0.0.1 or 0.0.0.0`,
};

/**
 * Listens and resolves once listening, or rejects with a ConfigError that says what is wrong and what to do.
 * (Express 5's app.listen hands the error to its callback as if it were success, which left a null address.)
 */
export async function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const hint = HINTS[error.code ?? ''];
      const reason = error.code === 'EADDRINUSE' ? 'port_in_use' : 'listen_failed';
      reject(new ConfigError(reason, `cannot listen on ${where}: ${hint ? hint(where, port) : `${error.message}: check PORT and TOOLGATE_HOST`}.`, { cause: error }));
    });
    server.listen(port, host, () => resolve());
  });
  return server;
}
