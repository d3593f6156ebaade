import { ConfigError } from '../errors.js';
import { isUploadId } from './record.js';
import type { UploadRecord, UploadStore } from './types.js';

/** In-memory uploads, the embedded default; the oldest are dropped beyond `maxBytes` so memory stays bounded. */
export class MemoryUploadStore implements UploadStore {
  readonly #records = new Map<string, { record: UploadRecord; bytes: Buffer }>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: { maxBytes?: number } = {}) {
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    if (!Number.isInteger(this.#maxBytes) || this.#maxBytes <= 0) throw new ConfigError('uploads_max_bytes_invalid', 'uploads maxBytes must be a positive integer.');
  }

  async put(record: UploadRecord, bytes: Buffer): Promise<void> {
    if (!isUploadId(record.id)) throw new TypeError(`upload id "${String(record.id).slice(0, 40)}" must be upl_<uuid> (newUploadId())`);
    // A record put again replaces the old one: its bytes no longer count, and it moves to the newest end.
    const old = this.#records.get(record.id);
    if (old) {
      this.#records.delete(record.id);
      this.#bytes -= old.bytes.length;
    }
    this.#records.set(record.id, { record, bytes });
    this.#bytes += bytes.length;
    for (const [id, entry] of this.#records) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#records.delete(id);
      this.#bytes -= entry.bytes.length;
    }
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    return this.#records.get(id)?.record;
  }
}
