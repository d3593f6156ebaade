// Waits until a fresh (or just restarted) local broker serves consumer groups and transactions, not only metadata:
// the first FindCoordinator creates __consumer_offsets and the first InitProducerId __transaction_state, and both
// answer "coordinator not available / loading" until then. Doing it here keeps that out of every test's first call.
// Usage: node scripts/kafka-warmup.mjs HOST:PORT TIMEOUT_MS
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const [broker = '127.0.0.1:19092', timeoutArg = '60000'] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg);
const kafka = new Kafka({
  clientId: 'toolgate-warmup',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
});

async function until(what, attempt) {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`${what}: not ready before the deadline: ${reason}`, { cause: err });
      }
      await sleep(200);
    }
  }
}

const admin = kafka.admin();
await until('connect', () => admin.connect());
await until('group coordinator', () => admin.describeGroups(['toolgate-warmup']));
await admin.disconnect();
await until('transaction coordinator', async () => {
  // An idempotent producer refuses retries: 0; this loop does the waiting, so keep kafkajs' own retries short.
  const producer = kafka.producer({
    transactionalId: 'toolgate-warmup',
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
  });
  try {
    await producer.connect();
    const tx = await producer.transaction();
    await tx.abort();
  } finally {
    await producer.disconnect();
  }
});
