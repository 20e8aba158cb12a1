/**
 * docs/openapi.json as a wallet developer uses it: a client generated with
 * openapi-typescript (test/support/generated/openapi.ts, kept current by
 * `npm run openapi:check`) and called through openapi-fetch against a real
 * `utxod start` process. The calls below compile only if the spec names the
 * paths, parameters and response fields this test reads, so a route or field
 * renamed without the spec fails `npm run typecheck` as well as this test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import createClient from 'openapi-fetch';
import type { paths } from '../support/generated/openapi.ts';
import { initNodeDir, issueToken, NodeProcess } from '../support/node-process.ts';

const datadir = mkdtempSync(join(tmpdir(), 'utxod-genclient-'));
let node: NodeProcess | undefined;
let baseUrl = '';

describe('a client generated from docs/openapi.json, against a real node', () => {
  before(async () => {
    initNodeDir(datadir);
    node = NodeProcess.start(datadir, ['--block-interval', '200']);
    baseUrl = await node.url();
    await node.waitForLog((line) => line.msg === 'committed block');
  });
  after(async () => {
    await node?.stop('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('reads the tip and the block at its height, publicly', async () => {
    const client = createClient<paths>({ baseUrl });
    const tip = await client.GET('/api/v1/chain/tip');
    assert.equal(tip.response.status, 200);
    assert.ok(tip.data !== undefined, JSON.stringify(tip.error));
    assert.ok(tip.data.height >= 1);
    const block = await client.GET('/api/v1/blocks/height/{height}', {
      params: { path: { height: tip.data.height } },
    });
    assert.ok(block.data !== undefined, JSON.stringify(block.error));
    assert.equal(block.data.hash, tip.data.hash);
    assert.equal(block.data.height, tip.data.height);
  });

  it('gets node status with a bearer token, and the typed error shape without one', async () => {
    const anonymous = createClient<paths>({ baseUrl });
    const refused = await anonymous.GET('/api/v1/node/status');
    assert.equal(refused.response.status, 401);
    assert.equal(refused.error?.error.code, 'AUTH_MISSING');
    assert.match(refused.error?.requestId ?? '', /./);

    const token = issueToken(datadir, 'reader');
    const reader = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
    const status = await reader.GET('/api/v1/node/status');
    assert.ok(status.data !== undefined, JSON.stringify(status.error));
    assert.equal(status.data.network, 'devnet');
    assert.ok(status.data.tip.height >= 1);
  });

  it('submits a transaction body and reads a rejection in the error shape', async () => {
    const client = createClient<paths>({ baseUrl });
    const result = await client.POST('/api/v1/txs', { body: { hex: '00' } });
    assert.equal(result.data, undefined);
    assert.ok(result.response.status >= 400 && result.response.status < 500);
    assert.match(result.error?.error.code ?? '', /^[A-Z_]+$/);
  });
});
