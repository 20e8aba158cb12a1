/**
 * End to end against a real `utxod start` child process: a wallet pays with
 * the CLI (`utxod send`, built from the API's UTXOs, submitted through the
 * typed client), sees it committed with `utxod tx`, balances move, the
 * WebSocket stream announces the block and the recipient's transaction, and
 * the metrics port serves valid Prometheus exposition.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { RpcClient } from '../../src/client/rpc-client.ts';
import { NETWORK_HRP } from '../../src/crypto/address.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { lockToAddress } from '../../src/primitives/address.ts';
import { COIN, parseCoins } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { NodeProcess, runUtxod, runUtxodAsync } from '../support/node-process.ts';
import { parseExposition } from '../support/prometheus.ts';

const datadir = mkdtempSync(join(tmpdir(), 'utxod-api-node-'));
const aliceFile = join(datadir, 'alice.json');
const bob = deriveKey(mnemonicToSeed(DEVNET_MNEMONIC), accountPath(1, 0, 7));
const bobAddress = lockToAddress(pubkeyLock(bob.publicKey), NETWORK_HRP.devnet);

/** `utxod <args>` without blocking the event loop (the stream keeps receiving meanwhile). */
function utxod(args: string[], token = '') {
  return runUtxodAsync(args, { UTXOD_TOKEN: token });
}

let node: NodeProcess | undefined;

describe('api end to end with a node process', () => {
  after(() => {
    node?.child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('sends with the CLI, streams the block and the transaction, exposes metrics', async () => {
    assert.equal(runUtxod(['init', '--datadir', datadir]).status, 0);
    const derived = runUtxod(['keys', 'derive', '--index', '0', '--out', aliceFile]);
    assert.equal(derived.status, 0, derived.stderr);
    const aliceAddress = /address:\s+(\S+)/.exec(derived.stdout)?.[1];
    assert.ok(aliceAddress);

    node = NodeProcess.start(datadir, ['--block-interval', '200']);
    const url = await node.url();
    const metricsUrl = await node.metricsUrl();
    assert.notEqual(new URL(url).port, new URL(metricsUrl).port);
    // The address, mempool and stream routes need a reader token (src/api/auth).
    const issued = runUtxod(['token', 'issue', '--role', 'reader', '--datadir', datadir, '--json']);
    assert.equal(issued.status, 0, issued.stderr);
    const token = (JSON.parse(issued.stdout) as { token: string }).token;
    const anonymous = new RpcClient({ url });
    await assert.rejects(anonymous.balance(bobAddress), { code: 'AUTH_MISSING', status: 401 });
    assert.equal((await anonymous.tip()).chainId.length > 0, true, 'chain reads stay public');
    const client = new RpcClient({ url, token });
    const bobBefore = BigInt((await client.balance(bobAddress)).confirmed);
    const aliceBefore = BigInt((await client.balance(aliceAddress)).confirmed);

    const messages: Array<Record<string, unknown>> = [];
    // Node's WebSocket (undici) takes headers; browsers would need another way to pass a token.
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/stream`, {
      headers: { authorization: `Bearer ${token}` },
    } as unknown as string[]);
    ws.addEventListener('message', (event) => {
      messages.push(JSON.parse(String(event.data)) as Record<string, unknown>);
    });
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'blocks' }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'address', address: bobAddress, id: 'b' }));
    const waitFor = async (test: (m: Record<string, unknown>) => boolean, what: string) => {
      for (let i = 0; i < 100; i++) {
        const found = messages.find(test);
        if (found !== undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`stream never sent ${what}: ${JSON.stringify(messages.slice(-5))}`);
    };
    await waitFor((m) => m['type'] === 'subscribed' && m['id'] === 'b', 'the subscription ack');

    const sent = await utxod(
      [
        'send',
        '--from-key',
        aliceFile,
        '--to',
        bobAddress,
        '--amount',
        '12.5',
        '--fee-rate',
        '2000',
        '--rpc',
        url,
        '--wait',
      ],
      token,
    );
    assert.equal(sent.status, 0, sent.stderr);
    const txid = /txid:\s+([0-9a-f]{64})/.exec(sent.stdout)?.[1];
    assert.ok(txid, sent.stdout);
    assert.match(sent.stdout, /committed at height \d+/);

    const shown = await utxod(['tx', txid, '--rpc', url], token);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /status:\s+committed at height/);
    assert.match(shown.stdout, new RegExp(`12\\.5 to ${bobAddress}`));

    const committed = await client.tx(txid);
    assert.equal(committed.status, 'committed');
    const bobAfter = BigInt((await client.balance(bobAddress)).confirmed);
    assert.equal(bobAfter - bobBefore, parseCoins('12.5'));
    const aliceAfter = BigInt((await client.balance(aliceAddress)).confirmed);
    const fee = aliceBefore - aliceAfter - parseCoins('12.5');
    assert.ok(fee > 0n && fee < COIN / 1000n, `fee ${fee}`);
    const balanceOut = await utxod(['balance', bobAddress, '--rpc', url, '--token', token]);
    assert.equal(balanceOut.status, 0, balanceOut.stderr);
    assert.match(balanceOut.stdout, /confirmed:\s+12\.5 /);

    const block = await waitFor(
      (m) => m['type'] === 'block' && (m['txids'] as string[]).includes(txid),
      'the block with the payment',
    );
    assert.equal(block['height'], committed.height);
    const announced = await waitFor(
      (m) => m['type'] === 'tx' && m['txid'] === txid && m['status'] === 'committed',
      'the committed transaction for bob',
    );
    assert.equal(announced['address'], bobAddress);
    assert.ok(
      messages.some((m) => m['type'] === 'tx' && m['txid'] === txid && m['status'] === 'mempool'),
      'the mempool admission was announced too',
    );
    ws.close();

    const status = await utxod(['status', '--rpc', url], token);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /tip:\s+\d+ [0-9a-f]{64}/);
    assert.equal((await client.ready()).status, 'ready');

    const unknown = await utxod(['tx', '00'.repeat(32), '--rpc', url]);
    assert.equal(unknown.status, 2);
    const refused = await utxod(['balance', 'not-an-address', '--rpc', url], token);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /\[INVALID_ADDRESS\]/);

    // Metrics live on their own port only.
    assert.equal((await fetch(`${url}/metrics`)).status, 404);
    const scrape = await fetch(`${metricsUrl}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { families } = parseExposition(await scrape.text());
    const requests = families.get('utxod_http_requests_total');
    assert.equal(requests?.type, 'counter');
    for (const sample of requests?.samples ?? [])
      assert.deepEqual(Object.keys(sample.labels).sort(), ['method', 'route', 'status']);
    assert.ok(
      requests?.samples.some(
        (s) => s.labels['route'] === '/api/v1/txs' && s.labels['method'] === 'POST' && s.value >= 1,
      ),
    );
    const duration = families.get('utxod_http_request_duration_seconds');
    assert.equal(duration?.type, 'histogram');
    const inf = duration?.samples.find(
      (s) => s.name.endsWith('_bucket') && s.labels['le'] === '+Inf',
    );
    const count = duration?.samples.find(
      (s) => s.name.endsWith('_count') && s.labels['route'] === inf?.labels['route'],
    );
    assert.ok(inf !== undefined && count !== undefined && inf.value === count.value);
    assert.equal(families.get('utxod_chain_height')?.type, 'gauge');
    assert.ok((families.get('utxod_chain_height')?.samples[0]?.value ?? 0) >= 1);

    assert.equal((await node.stop('SIGTERM')).code, 0);
  });
});
