import type { SendCommand } from './types.js';

// Commands the stores send that change nothing: no replica has to hold their effect.
const READS: ReadonlySet<string> = new Set(['GET', 'MGET', 'EXISTS', 'PTTL', 'TTL', 'ZRANGE', 'ZRANGEBYSCORE', 'ZCARD', 'ZSCORE', 'HGET', 'HGETALL', 'SCAN', 'PING']);

/**
 * Wraps `send` so that every write is followed by `WAIT replicas timeoutMs` on the same connection, and a write
 * fewer replicas acknowledged fails with `shortfall(acked)`. Why: Redis replicates asynchronously, so a write the
 * primary acknowledged (a spent nonce, a limit reservation, a consumed approval) can be lost when Sentinel promotes
 * a replica that had not received it yet; the caller would then see the same nonce or approval accepted twice.
 * With WAIT, what the gateway reports done is on at least `replicas` replicas, and Sentinel promotes the replica
 * with the most data. The write and its WAIT are sent together (pipelined): one round trip plus the replicas' ack.
 * WAIT covers every earlier write of the connection, which is why it must share the write's connection.
 */
export function waitForReplicas(send: SendCommand, replicas: number, timeoutMs: number, shortfall: (acked: number) => Error): SendCommand {
  if (replicas <= 0) return send;
  const wait = ['WAIT', String(replicas), String(timeoutMs)];
  return async (...args) => {
    if (READS.has((args[0] ?? '').toUpperCase())) return send(...args);
    const [reply, acked] = await Promise.all([send(...args), send(...wait)]);
    if (Number(acked) < replicas) throw shortfall(Number(acked));
    return reply;
  };
}
