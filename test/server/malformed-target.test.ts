import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** A target that does not percent-decode is the client's error on every route of the service: 400, never 500. */
describe('a request target that does not percent-decode', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  it.each([
    ['GET', '/uploads/%ZZ'],
    ['GET', '/approvals/%ZZ'],
    ['POST', '/approvals/%ZZ/approve'],
    ['POST', '/uploads/%ZZ'],
  ])('%s %s answers 400 request_malformed', async (method, path) => {
    const res = await fetch(`${gw.url}${path}`, { method });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_request', reason: 'request_malformed' });
  });
});
