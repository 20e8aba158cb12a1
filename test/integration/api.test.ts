/**
 * The /api/v1 server against a real chain (LevelDB), a real mempool and real
 * HTTP on loopback: every route's answers, its schema refusing bad input in
 * the one error format, transaction rejections naming their rule, security
 * headers, CORS, body limits, health probes, request metrics and the stream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RpcClient, RpcError } from '../../src/client/rpc-client.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { toHex } from '../../src/util/bytes.ts';
import { type ApiFixture, startApiFixture } from '../support/api-server.ts';
import { genesisCoins } from '../support/chain-fixture.ts';
import { parseExposition } from '../support/prometheus.ts';

interface ErrorReply {
  error: { code: string; message: string; details: Record<string, unknown> };
  requestId: string;
}

async function call(
  f: ApiFixture,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(f.url + path, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (docs HTML): kept as text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

function assertError(
  reply: { status: number; body: unknown; headers: Headers },
  status: number,
  code: string,
  what: string,
): ErrorReply {
  assert.equal(reply.status, status, `${what}: ${JSON.stringify(reply.body)}`);
  const body = reply.body as ErrorReply;
  assert.equal(body.error.code, code, what);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.details, 'object');
  assert.equal(body.requestId, reply.headers.get('x-request-id'), `${what}: request id`);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'requestId']);
  assert.ok(!JSON.stringify(body).includes('    at '), `${what}: no stack in the body`);
  return body;
}

describe('api server', () => {
  let f: ApiFixture;
  const hash0 = '00'.repeat(32);

  before(async () => {
    f = await startApiFixture({ readyMaxTipAgeMs: 60_000 });
  });
  after(async () => {
    await f.close();
  });

  it('serves the tip and chain info', async () => {
    const tip = await call(f, 'GET', '/api/v1/chain/tip');
    assert.equal(tip.status, 200);
    const body = tip.body as { height: number; hash: string; chainId: string };
    assert.equal(body.height, 0);
    assert.equal(body.hash, toHex(f.t.chain.genesisHash));
    const info = (await call(f, 'GET', '/api/v1/chain/info')).body as {
      genesisHash: string;
      addressPrefix: string;
      params: { initialSubsidy: string; coinbaseMaturity: number };
    };
    assert.equal(info.genesisHash, toHex(f.t.chain.genesisHash));
    assert.equal(info.addressPrefix, 'dutx');
    assert.equal(info.params.initialSubsidy, (50n * COIN).toString());
    assert.ok(tip.headers.get('x-request-id'));
    assert.equal(tip.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(tip.headers.get('content-security-policy'));
    assert.equal(tip.headers.get('access-control-allow-origin'), null, 'CORS is off by default');
  });

  it('keeps a plain caller request id and replaces a hostile one', async () => {
    const kept = await call(f, 'GET', '/api/v1/chain/tip', undefined, {
      'x-request-id': 'abc-123',
    });
    assert.equal(kept.headers.get('x-request-id'), 'abc-123');
    const replaced = await call(f, 'GET', '/api/v1/chain/tip', undefined, {
      'x-request-id': 'a b\tc',
    });
    assert.notEqual(replaced.headers.get('x-request-id'), 'a b\tc');
  });

  it('is not ready on a stale tip, or while syncing, and says which component', async () => {
    const stale = await call(f, 'GET', '/health/ready');
    assert.equal(stale.status, 503);
    const body = stale.body as {
      status: string;
      components: Record<string, { ok: boolean; detail: string }>;
    };
    assert.equal(body.status, 'not-ready');
    assert.equal(body.components['tip']!.ok, false);
    assert.equal(body.components['database']!.ok, true);
    await f.produce();
    assert.equal((await call(f, 'GET', '/health/ready')).status, 200);
    f.status.syncing = true;
    const syncing = await call(f, 'GET', '/health/ready');
    assert.equal(syncing.status, 503);
    assert.equal(
      (syncing.body as { components: { sync: { ok: boolean } } }).components.sync.ok,
      false,
    );
    f.status.syncing = false;
    assert.deepEqual((await call(f, 'GET', '/health/live')).body, { status: 'alive' });
  });

  it('while state sync builds the chain: alive, not ready with the reason, progress in node status, chain routes 503', async () => {
    f.status.stateSyncRunning = true;
    f.status.syncing = true;
    f.status.stateSync = {
      phase: 'fetching',
      height: 120,
      chunksDone: 3,
      chunksTotal: 10,
      bytesDone: 3072,
      etaSeconds: 7,
      peers: 2,
    };
    try {
      assert.deepEqual((await call(f, 'GET', '/health/live')).body, { status: 'alive' });
      const ready = await call(f, 'GET', '/health/ready');
      assert.equal(ready.status, 503);
      const components = (
        ready.body as { components: Record<string, { ok: boolean; detail: string }> }
      ).components;
      assert.equal(components['chain']!.ok, false);
      assert.match(
        components['sync']!.detail,
        /state sync fetching: snapshot 120, 3\/10 chunks from 2 peers/,
      );
      const tip = await call(f, 'GET', '/api/v1/chain/tip');
      const refused = assertError(
        tip,
        503,
        'STATE_SYNC_IN_PROGRESS',
        'chain tip during state sync',
      );
      assert.deepEqual(refused.error.details, {
        phase: 'fetching',
        chunksDone: 3,
        chunksTotal: 10,
      });
      assert.equal(tip.headers.get('retry-after'), '7');
      assertError(
        await call(f, 'GET', `/api/v1/addresses/${f.aliceAddress}/balance`),
        503,
        'STATE_SYNC_IN_PROGRESS',
        'balance during state sync',
      );
      // An unknown route is still a 404, not a state-sync refusal.
      assertError(await call(f, 'GET', '/api/v1/nowhere'), 404, 'NOT_FOUND', 'unknown route');
      // Node status needs a reader token when auth is on; this fixture runs without auth.
      const status = await call(f, 'GET', '/api/v1/node/status');
      assert.equal(status.status, 200, JSON.stringify(status.body));
      const body = status.body as { syncing: boolean; stateSync: Record<string, unknown> };
      assert.equal(body.syncing, true);
      assert.deepEqual(body.stateSync, {
        phase: 'fetching',
        height: 120,
        chunksDone: 3,
        chunksTotal: 10,
        bytesDone: 3072,
        etaSeconds: 7,
        peers: 2,
        earliestHeight: null,
      });
      // Done and replaced by the snapshot's chain: everything answers again, the sync stays reported.
      f.status.stateSyncRunning = false;
      f.status.syncing = false;
      f.status.stateSync = { ...f.status.stateSync, phase: 'done', chunksDone: 10, etaSeconds: 0 };
      assert.equal((await call(f, 'GET', '/api/v1/chain/tip')).status, 200);
      const after = (await call(f, 'GET', '/api/v1/node/status')).body as {
        stateSync: { phase: string; earliestHeight: number | null };
      };
      assert.equal(after.stateSync.phase, 'done');
      assert.equal(after.stateSync.earliestHeight, 120);
    } finally {
      f.status.stateSyncRunning = false;
      f.status.syncing = false;
      f.status.stateSync = null;
    }
  });

  it('submits, follows and confirms a payment; balances and history follow', async () => {
    const client = new RpcClient({ url: f.url });
    const pay = await f.pay(3n * COIN);
    const submitted = await client.submitTx(pay);
    assert.equal(submitted.status, 'accepted');
    assert.equal(submitted.txid, toHex(pay.txid));
    const pending = await client.tx(submitted.txid);
    assert.equal(pending.status, 'mempool');
    assert.equal(pending.tx?.outputs[0]?.address, f.bobAddress);
    const bobPending = await client.balance(f.bobAddress);
    assert.equal(bobPending.pendingIn, (3n * COIN).toString());
    const alicePending = await client.balance(f.aliceAddress);
    assert.equal(alicePending.pendingOut, (1000n * COIN).toString());
    const entries = await client.mempoolTxs();
    assert.equal(entries.total, 1);
    assert.equal(entries.items[0]?.txid, submitted.txid);
    assert.equal((await client.mempool()).size, 1);

    const block = await f.produce();
    const committed = await client.tx(submitted.txid, { hex: true });
    assert.equal(committed.status, 'committed');
    assert.equal(committed.height, block.height);
    assert.equal(committed.blockHash, toHex(block.hash));
    assert.equal(committed.tx?.hex, toHex(pay.encode()));
    const bob = await client.balance(f.bobAddress);
    assert.equal(bob.confirmed, (1003n * COIN).toString());
    assert.equal(bob.pendingIn, '0');
    const utxos = await client.utxos(f.bobAddress, { limit: 1 });
    assert.equal(utxos.items.length, 1);
    assert.ok(utxos.next !== null);
    const rest = await client.utxos(f.bobAddress, { after: utxos.next });
    assert.equal(utxos.items.length + rest.items.length, 2);
    assert.equal(rest.next, null);

    const byHeight = await client.block(block.height, { txs: true });
    assert.equal(byHeight.hash, toHex(block.hash));
    assert.equal(byHeight.txs?.length, 2);
    assert.equal(byHeight.commit?.blockHash, toHex(block.hash));
    assert.equal(byHeight.commit?.signatures.length, 1);
    const byHash = await client.block(toHex(block.hash));
    assert.equal(byHash.height, block.height);
    assert.equal(byHash.txs, undefined);
    const headers = await client.headers(0, 500);
    assert.equal(headers.headers.length, block.height + 1);
    assert.equal(headers.headers.at(-1)?.hash, toHex(block.hash));
    const coin = await client.coin(submitted.txid, 0);
    assert.equal(coin.amount, (3n * COIN).toString());
    assert.equal(coin.address, f.bobAddress);
    const validators = await client.validators();
    assert.equal(validators.validators.length, 1);
    const status = await client.status();
    assert.equal(status.tip.height, block.height);
    assert.equal(status.peers, 0);
  });

  it('pages address history on height boundaries', async () => {
    const client = new RpcClient({ url: f.url });
    // Two more payments to bob in two more blocks: history has 4 entries at 4 heights.
    for (let i = 0; i < 2; i++) {
      const coins = (await client.allUtxos(f.aliceAddress)).map((c) => ({
        outpoint: { txid: Buffer.from(c.txid, 'hex'), index: c.index },
        amount: BigInt(c.amount),
        lock: { type: 0, hash: new Uint8Array() },
      }));
      assert.equal(coins.length, 1);
      const [own] = await genesisCoins(f.t.chain);
      const tx = await f.pay(1n * COIN, {
        coins: coins.map((c) => ({ ...c, lock: own!.lock })),
      });
      await client.submitTx(tx);
      await f.produce();
    }
    const seen: Array<{ txid: string; height: number }> = [];
    let before: number | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await client.history(f.bobAddress, {
        limit: 1,
        ...(before === undefined ? {} : { before }),
      });
      seen.push(...result.items);
      if (result.next === null) break;
      before = result.next;
    }
    assert.equal(seen.length, 4);
    const heights = seen.map((s) => s.height);
    assert.deepEqual(
      heights,
      [...heights].sort((a, b) => b - a),
    );
    assert.equal(new Set(seen.map((s) => s.txid)).size, 4);
  });

  it('names the rule a rejected transaction broke', async () => {
    const client = new RpcClient({ url: f.url });
    const [aliceCoin] = await client.allUtxos(f.aliceAddress);
    const [own] = await genesisCoins(f.t.chain);
    const coin = {
      outpoint: { txid: Buffer.from(aliceCoin!.txid, 'hex'), index: aliceCoin!.index },
      amount: BigInt(aliceCoin!.amount),
      lock: own!.lock,
    };
    const cheap = await f.pay(1n * COIN, { coins: [coin], feeRate: 10n });
    const tooCheap = assertError(
      await call(f, 'POST', '/api/v1/txs', { hex: toHex(cheap.encode()) }),
      422,
      'MEMPOOL_FEE_TOO_LOW',
      'fee too low',
    );
    assert.equal(tooCheap.error.details['rule'], 'policy');

    const good = await f.pay(1n * COIN, { coins: [coin] });
    const witness = good.witnesses[0]!;
    const badSig = new Uint8Array(witness.signature);
    badSig[10] = badSig[10]! ^ 1;
    const forged = good.withWitnesses([{ publicKey: witness.publicKey, signature: badSig }]);
    const rejected = assertError(
      await call(f, 'POST', '/api/v1/txs', { hex: toHex(forged.encode()) }),
      422,
      'TX_BAD_SIGNATURE',
      'bad signature',
    );
    assert.equal(rejected.error.details['rule'], 'consensus');
    assert.equal(rejected.error.details['penalty'], 100);

    await client.submitTx(good);
    const again = await call(f, 'POST', '/api/v1/txs', { hex: toHex(good.encode()) });
    assertError(again, 409, 'MEMPOOL_ALREADY_KNOWN', 'duplicate');
    try {
      await client.submitTx(good);
      assert.fail('expected an RpcError');
    } catch (error) {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, 'MEMPOOL_ALREADY_KNOWN');
      assert.equal(error.status, 409);
      assert.ok(error.requestId);
    }
    const truncated = toHex(good.encode()).slice(0, 40);
    assertError(
      await call(f, 'POST', '/api/v1/txs', { hex: truncated }),
      400,
      'DECODE_ERROR',
      'truncated transaction',
    );
    assert.ok(Transaction.decode(good.encode()));
    await f.produce();
  });

  it('refuses bad input on every route with 400 VALIDATION_ERROR', async () => {
    const a = f.bobAddress;
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/blocks/height/abc'],
      ['GET', '/api/v1/blocks/height/-1'],
      ['GET', '/api/v1/blocks/height/0?txs=maybe'],
      ['GET', '/api/v1/blocks/height/0?unknown=1'],
      ['GET', '/api/v1/blocks/hash/xyz'],
      ['GET', `/api/v1/blocks/hash/${'A'.repeat(64)}`],
      ['GET', '/api/v1/headers'],
      ['GET', '/api/v1/headers?from=0&count=501'],
      ['GET', '/api/v1/headers?from=0&count=0'],
      ['GET', '/api/v1/txs/1234'],
      ['GET', `/api/v1/txs/${hash0}?hex=nope`],
      ['POST', '/api/v1/txs', {}],
      ['POST', '/api/v1/txs', { hex: 'abc' }],
      ['POST', '/api/v1/txs', { hex: 'zz' }],
      ['POST', '/api/v1/txs', { hex: 'ab', extra: true }],
      ['POST', '/api/v1/txs', { hex: 12 }],
      ['POST', '/api/v1/txs', []],
      ['GET', `/api/v1/coins/${hash0}/-1`],
      ['GET', `/api/v1/coins/${hash0}/4294967296`],
      ['GET', '/api/v1/coins/nothex/0'],
      ['GET', '/api/v1/addresses/short/balance'],
      ['GET', `/api/v1/addresses/${'x'.repeat(91)}/balance`],
      ['GET', `/api/v1/addresses/${a}/utxos?limit=0`],
      ['GET', `/api/v1/addresses/${a}/utxos?limit=1001`],
      ['GET', `/api/v1/addresses/${a}/utxos?after=bad`],
      ['GET', `/api/v1/addresses/${a}/txs?before=0`],
      ['GET', `/api/v1/addresses/${a}/txs?limit=abc`],
      ['GET', '/api/v1/mempool/txs?offset=-1'],
      ['GET', '/api/v1/mempool/txs?limit=100000'],
      ['PUT', '/api/v1/admin/log-level', { level: 'loud' }],
      ['PUT', '/api/v1/admin/log-level', {}],
      ['DELETE', '/api/v1/admin/mempool/txs/xyz'],
    ];
    for (const [method, path, body] of cases) {
      const reply = await call(f, method, path, body);
      const error = assertError(reply, 400, 'VALIDATION_ERROR', `${method} ${path}`);
      assert.ok(Array.isArray(error.error.details['issues']), `${method} ${path}: issues listed`);
    }
    assertError(
      await call(f, 'GET', `/api/v1/addresses/${'q'.repeat(60)}/balance`),
      400,
      'INVALID_ADDRESS',
      'not bech32m',
    );
    assertError(
      await call(f, 'GET', `/api/v1/addresses/${'q'.repeat(60)}/utxos`),
      400,
      'INVALID_ADDRESS',
      'not bech32m (utxos)',
    );
  });

  it('answers other failures in the same format', async () => {
    assertError(await call(f, 'GET', '/api/v1/nope'), 404, 'NOT_FOUND', 'unknown route');
    assertError(await call(f, 'GET', '/api/v1/blocks/height/99999'), 404, 'NOT_FOUND', 'no block');
    assertError(await call(f, 'GET', `/api/v1/blocks/hash/${hash0}`), 404, 'NOT_FOUND', 'no hash');
    assertError(await call(f, 'GET', `/api/v1/coins/${hash0}/0`), 404, 'NOT_FOUND', 'no coin');
    assert.equal(
      ((await call(f, 'GET', `/api/v1/txs/${hash0}`)).body as { status: string }).status,
      'unknown',
    );
    assertError(
      await call(f, 'POST', '/api/v1/txs', 'hex=ab', { 'content-type': 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'wrong content type',
    );
    assertError(
      await call(f, 'POST', '/api/v1/txs', '{"hex": ', {}),
      400,
      'BAD_REQUEST',
      'broken JSON',
    );
    assertError(
      await call(f, 'POST', '/api/v1/txs', { hex: 'ab'.repeat(1_100_000) }),
      413,
      'PAYLOAD_TOO_LARGE',
      'body over the limit',
    );
    assertError(
      await call(f, 'DELETE', `/api/v1/admin/mempool/txs/${'ab'.repeat(32)}`),
      404,
      'NOT_FOUND',
      'not in the mempool',
    );
    const cleared = await call(f, 'DELETE', '/api/v1/admin/mempool/txs');
    assert.equal(cleared.status, 200);
    assert.equal(typeof (cleared.body as { dropped: number }).dropped, 'number');
    // An unexpected failure: logged with its stack, answered without it.
    Object.defineProperty(f.status, 'peers', {
      configurable: true,
      get() {
        throw new Error('secret internals');
      },
    });
    const internal = assertError(
      await call(f, 'GET', '/api/v1/node/status'),
      500,
      'INTERNAL_ERROR',
      'internal error',
    );
    assert.equal(internal.error.message, 'internal error');
    Object.defineProperty(f.status, 'peers', { configurable: true, value: 0, writable: true });
  });

  it('changes the log level at runtime', async () => {
    const before = (await call(f, 'GET', '/api/v1/admin/log-level')).body as { level: string };
    const set = await call(f, 'PUT', '/api/v1/admin/log-level', { level: 'warn' });
    assert.deepEqual(set.body, { level: 'warn' });
    assert.equal(f.logger.level, 'warn');
    await call(f, 'PUT', '/api/v1/admin/log-level', { level: before.level });
  });

  it('flushes the mempool to its snapshot file, which a restarted mempool loads', async () => {
    // Any confirmed coin of alice's that no pool entry spends yet (whatever ran before).
    const aliceCoins = await f.t.chain.addressCoins(pubkeyLock(f.alice.publicKey).hash, {
      limit: 100,
    });
    const free = aliceCoins.find((c) => f.mempool.spenderOf(c.outpoint) === undefined);
    assert.ok(free !== undefined, 'alice has an unspent coin');
    const tx = await f.pay(COIN, {
      coins: [{ outpoint: free.outpoint, amount: free.coin.amount, lock: free.coin.lock }],
    });
    const added = await f.mempool.add(tx);
    assert.equal(added.status, 'accepted');
    const flushed = await call(f, 'POST', '/api/v1/admin/mempool/flush');
    assert.equal(flushed.status, 200, JSON.stringify(flushed.body));
    assert.deepEqual(flushed.body, { path: f.mempoolFile, txs: f.mempool.size });
    // What a node restarting on this file gets back: the same transactions.
    const restarted = new Mempool(
      { maxBytes: 8 * 1024 * 1024, minRelayFeeRate: 1000n },
      {
        params: f.t.chain.params,
        chainIdHash: f.t.chain.chainIdHash,
        chain: f.t.chain,
        signatures: new SignatureChecker({ verifier: f.t.verifier, cache: null }),
      },
    );
    const loaded = await restarted.loadFrom(f.mempoolFile);
    assert.deepEqual(loaded, { found: true, accepted: f.mempool.size, skipped: 0 });
    const ids = (m: Mempool) => [...m.entries()].map((e) => toHex(e.txid));
    assert.deepEqual(ids(restarted), ids(f.mempool));
    assert.ok(restarted.has(tx.txid));
    // Leave the shared pool as it was: later tests spend alice's coins too.
    const dropped = await call(f, 'DELETE', `/api/v1/admin/mempool/txs/${toHex(tx.txid)}`);
    assert.equal(dropped.status, 200);
    assert.equal(f.mempool.has(tx.txid), false);
  });

  it('estimates a fee rate never below the relay minimum', async () => {
    const estimate = await new RpcClient({ url: f.url }).feeEstimate();
    assert.ok(BigInt(estimate.feeRate) >= BigInt(estimate.minRelayFeeRate));
    assert.equal(estimate.nextBlock.full, false);
  });

  it('serves the OpenAPI document and UI', async () => {
    const doc = (await call(f, 'GET', '/api/v1/docs/json')).body as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok('/api/v1/txs' in doc.paths);
    const ui = await call(f, 'GET', '/api/v1/docs/');
    assert.equal(ui.status, 200);
  });

  it('counts requests by route pattern and status', async () => {
    const samples = parseExposition(await f.registry.metrics());
    const requests = samples.families.get('utxod_http_requests_total');
    assert.equal(requests?.type, 'counter');
    const routes = new Set(requests?.samples.map((s) => s.labels['route']));
    assert.ok(routes.has('/api/v1/blocks/height/:height'), [...routes].join(', '));
    assert.ok(!routes.has('/api/v1/blocks/height/abc'), 'raw URLs never become labels');
    assert.equal(samples.families.get('utxod_http_request_duration_seconds')?.type, 'histogram');
  });

  it('streams new blocks and an address’s transactions over WebSocket', async () => {
    const ws = new WebSocket(`${f.url.replace('http', 'ws')}/api/v1/stream`);
    const messages: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    ws.addEventListener('message', (event) => {
      messages.push(JSON.parse(String(event.data)) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    });
    const waitFor = async (test: (m: Record<string, unknown>) => boolean) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = messages.find(test);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no such message: ${JSON.stringify(messages)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    };
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'blocks', id: 1 }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'address', address: f.bobAddress, id: 2 }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'address', address: 'nope', id: 3 }));
    ws.send('not json');
    await waitFor((m) => m['type'] === 'subscribed' && m['id'] === 2);
    const badAddress = await waitFor((m) => m['type'] === 'error' && m['id'] === 3);
    assert.equal((badAddress['error'] as { code: string }).code, 'INVALID_ADDRESS');

    const client = new RpcClient({ url: f.url });
    const [aliceCoin] = await client.allUtxos(f.aliceAddress);
    const [own] = await genesisCoins(f.t.chain);
    const pay = await f.pay(2n * COIN, {
      coins: [
        {
          outpoint: { txid: Buffer.from(aliceCoin!.txid, 'hex'), index: aliceCoin!.index },
          amount: BigInt(aliceCoin!.amount),
          lock: own!.lock,
        },
      ],
    });
    const txid = toHex(pay.txid);
    await client.submitTx(pay);
    const pending = await waitFor((m) => m['type'] === 'tx' && m['txid'] === txid);
    assert.equal(pending['status'], 'mempool');
    assert.equal(pending['address'], f.bobAddress);
    const block = await f.produce();
    const announced = await waitFor((m) => m['type'] === 'block' && m['height'] === block.height);
    assert.ok((announced['txids'] as string[]).includes(txid));
    const committed = await waitFor(
      (m) => m['type'] === 'tx' && m['txid'] === txid && m['status'] === 'committed',
    );
    assert.equal(committed['height'], block.height);
    ws.close();
  });
});

describe('api server options', () => {
  it('answers CORS preflights only for allowlisted origins', async () => {
    const f = await startApiFixture({ corsOrigins: ['https://wallet.example'] });
    try {
      const allowed = await fetch(`${f.url}/api/v1/txs`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://wallet.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://wallet.example');
      const other = await fetch(`${f.url}/api/v1/chain/tip`, {
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      await f.close();
    }
  });

  it('applies the configured body limit', async () => {
    const f = await startApiFixture({ bodyLimit: 2048 });
    try {
      const reply = await fetch(`${f.url}/api/v1/txs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hex: 'ab'.repeat(2000) }),
      });
      assert.equal(reply.status, 413);
      assert.equal(((await reply.json()) as ErrorReply).error.code, 'PAYLOAD_TOO_LARGE');
    } finally {
      await f.close();
    }
  });
});
