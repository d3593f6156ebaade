import type { Response } from 'express';

/** The contract's JSON error body (`error`, `reason`, `message`), never cached. */
export function fail(res: Response, status: number, error: string, reason: string, message: string): void {
  send(res, status, { error, reason, message });
}

export function send(res: Response, status: number, body: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json(body);
}
