import { readTopic } from '../audit/topic-reader.js';
import type { Logger } from '../logger.js';
import type { AuditFeed } from './feed.js';

/**
 * Follows the audit topic into the feed (from the beginning: the feed keeps the newest within its bounds). A lost
 * broker connection is retried with a growing delay, reading again from the start; the feed drops what it already
 * holds only by its bounds, so a re-read after a failure may show events twice, which the detail view tolerates.
 */
export function tailAuditTopic(kafka: { readonly brokers: readonly string[]; readonly topic: string }, feed: AuditFeed, options: { logger?: Logger | undefined }): { close(): void } {
  const abort = new AbortController();
  let delay = 1000;
  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        await readTopic({ brokers: kafka.brokers, topic: kafka.topic, follow: true, signal: abort.signal }, (_event, raw) => feed.add(raw));
        delay = 1000;
      } catch (error) {
        options.logger?.warn('console cannot read the audit topic; retrying', { topic: kafka.topic, error: error instanceof Error ? error.message : String(error) });
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 30_000);
      }
    }
  };
  void run();
  return { close: () => abort.abort() };
}
