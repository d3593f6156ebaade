/** A file a human uploaded explicitly: the only provenance the policy accepts for email attachments. */
export interface UploadRecord {
  readonly id: string;
  readonly source: 'user_upload';
  readonly uploaded_by: string;
  readonly uploaded_at: string;
  readonly uploaded_at_ms: number;
  readonly size: number;
  readonly sha256: string;
  readonly content_type: string;
  readonly filename: string | null;
}

export interface UploadStore {
  put(record: UploadRecord, bytes: Buffer): Promise<void>;
  get(id: string): Promise<UploadRecord | undefined>;
  close?(): Promise<void>;
}
