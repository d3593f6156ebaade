import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, loadVerificationKey } from '../../src/policy/index.js';
import { readTarball } from '../../src/policy/tarball.js';
import { buildBundle, keyPair, OPA } from './bundles.js';

/** Rewrites one member of a real bundle.tar.gz with the system tar (as someone tampering with it would). */
function tamper(archive: string, change: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-tamper-'));
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  change(dir);
  const out = join(dir, '..', `${dir.split('/').pop()}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', dir, '.']);
  return out;
}

/** A tar archive written by hand, for entries opa build never writes (links, traversal). */
function rawTar(entries: { name: string; type?: string; body?: string; link?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    if (e.link) h.write(e.link, 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe('bundles signed by opa build --signing-key', () => {
  const keys = { rsa: keyPair('rsa'), ec: keyPair('ec'), ed25519: keyPair('ed25519') };
  const algs = { rsa: 'RS256', ec: 'ES256', ed25519: 'EdDSA' } as const;
  const signed: Record<string, string> = {};
  let unsigned: string;

  beforeAll(() => {
    for (const kind of ['rsa', 'ec', 'ed25519'] as const) signed[kind] = buildBundle({ revision: `signed-${kind}`, signingKey: keys[kind].privateKey, signingAlg: algs[kind] });
    unsigned = buildBundle({ revision: 'unsigned' });
  });

  it.each(['rsa', 'ec', 'ed25519'] as const)('verifies a %s-signed bundle with its public key', async (kind) => {
    const bundle = await loadBundle(signed[kind]!, { verification: { publicKey: loadVerificationKey(keys[kind].publicKey) } });
    expect(bundle.manifest.revision).toBe(`signed-${kind}`);
    expect(bundle.signedBy).toBe('default');
  });

  it('loads an unsigned bundle when no key is configured, and refuses it when one is', async () => {
    expect((await loadBundle(unsigned)).manifest.revision).toBe('unsigned');
    await expect(loadBundle(unsigned, { verification: { publicKey: loadVerificationKey(keys.rsa.publicKey) } })).rejects.toMatchObject({ reason: 'bundle_signature_missing' });
  });

  it('refuses a bundle signed with another key', async () => {
    await expect(loadBundle(signed.ec!, { verification: { publicKey: loadVerificationKey(keys.rsa.publicKey) } })).rejects.toMatchObject({ reason: 'bundle_signature_invalid' });
    const otherEc = keyPair('ec');
    await expect(loadBundle(signed.ec!, { verification: { publicKey: loadVerificationKey(otherEc.publicKey) } })).rejects.toMatchObject({ reason: 'bundle_signature_invalid' });
  });

  it('refuses a key id other than the configured one', async () => {
    await expect(loadBundle(signed.rsa!, { verification: { publicKey: loadVerificationKey(keys.rsa.publicKey), keyId: 'prod' } })).rejects.toMatchObject({ reason: 'bundle_signature_invalid' });
  });

  const verification = () => ({ publicKey: loadVerificationKey(keys.rsa.publicKey) });
  it.each([
    ['data.json changed', (d: string) => {
      const data = JSON.parse(readFileSync(join(d, 'data.json'), 'utf8')) as { toolgate: { config: { defaults: { rate: { max: number } } } } };
      data.toolgate.config.defaults.rate.max = 3000;
      writeFileSync(join(d, 'data.json'), JSON.stringify(data));
    }],
    ['policy.wasm changed', (d: string) => writeFileSync(join(d, 'policy.wasm'), Buffer.concat([readFileSync(join(d, 'policy.wasm')), Buffer.from([0])]))],
    ['a file added', (d: string) => writeFileSync(join(d, 'extra.rego'), 'package x\n')],
    ['a signed file removed', (d: string) => execFileSync('rm', [join(d, 'src/toolgate/lib.rego')])],
  ])('refuses a signed bundle with %s (bundle_file_tampered)', async (_what, change) => {
    await expect(loadBundle(tamper(signed.rsa!, change), { verification: verification() })).rejects.toMatchObject({ reason: 'bundle_file_tampered' });
  });

  it('accepts data.json re-indented after signing: JSON files are hashed in canonical form, as OPA does', async () => {
    const reformatted = tamper(signed.rsa!, (d) => writeFileSync(join(d, 'data.json'), JSON.stringify(JSON.parse(readFileSync(join(d, 'data.json'), 'utf8')), null, 4)));
    await expect(loadBundle(reformatted, { verification: verification() })).resolves.toMatchObject({ manifest: { revision: 'signed-rsa' } });
  });

  it('refuses a bundle without its .signatures.json', async () => {
    await expect(loadBundle(tamper(signed.rsa!, (d) => execFileSync('rm', [join(d, '.signatures.json')])), { verification: verification() })).rejects.toMatchObject({ reason: 'bundle_signature_missing' });
  });
});

describe('reading bundle archives', () => {
  it.each([
    ['a symlink', [{ name: 'policy.wasm', type: '2', link: '/etc/passwd' }]],
    ['a hard link', [{ name: 'data.json', type: '1', link: 'x' }]],
    ['a path that climbs out', [{ name: '../../evil.rego', body: 'x' }]],
    ['the same file twice', [{ name: 'data.json', body: '{}' }, { name: './data.json', body: '{}' }]],
  ])('refuses %s', async (_what, entries) => {
    await expect(readTarball(rawTar(entries), 'test')).rejects.toMatchObject({ reason: 'policy_bundle_invalid' });
  });

  it('bounds the unpacked size (a gzip bomb is refused before it is parsed)', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
    await expect(readTarball(bomb, 'test', { maxBytes: 1024 * 1024, maxFiles: 10 })).rejects.toMatchObject({ reason: 'policy_bundle_too_large' });
  });

  it('reads the files of a real bundle by OPA names', async () => {
    const files = await readTarball(readFileSync(buildBundle({ revision: 'r' })), 'test');
    expect([...files.keys()]).toEqual(expect.arrayContaining(['policy.wasm', 'data.json', '.manifest', 'src/toolgate/lib.rego']));
  });
});

describe('make policy with a signing key (scripts/policy.sh)', () => {
  it('writes a signed bundle.tar.gz and directory that verify with the public key; an edited directory file is refused', async () => {
    const key = keyPair('ed25519');
    const out = mkdtempSync(join(tmpdir(), 'toolgate-policy-out-'));
    execFileSync('bash', ['scripts/policy.sh'], { env: { ...process.env, POLICY_OUT: out, TOOLGATE_OPA: OPA, TOOLGATE_POLICY_SIGNING_KEY: key.privateKey, TOOLGATE_POLICY_SIGNING_ALG: 'EdDSA' }, stdio: 'ignore' });
    const verification = { publicKey: loadVerificationKey(key.publicKey) };
    const fromArchive = await loadBundle(join(out, 'bundle.tar.gz'), { verification });
    const fromDir = await loadBundle(out, { verification });
    expect(fromDir.sha256).toBe(fromArchive.sha256);
    expect(fromDir.signedBy).toBe('default');
    writeFileSync(join(out, 'data.json'), '{}');
    await expect(loadBundle(out, { verification })).rejects.toMatchObject({ reason: 'bundle_file_tampered' });
  });
});
