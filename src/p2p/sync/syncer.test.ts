import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { CHAIN_ID, type TestChain } from '../../../test/support/chain-fixture.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import {
  buildSourceChain,
  MemoryNetwork,
  MemoryPeer,
  type MemoryPeerBehaviour,
  openSyncTarget,
  type SourceChain,
  sourceOwner,
} from '../../../test/support/sync-fixture.ts';
import { buildTransaction } from '../../client/tx-builder.ts';
import { SignatureChecker } from '../../consensus/signatures.ts';
import { silentLogger } from '../../logger/index.ts';
import { COIN } from '../../primitives/amount.ts';
import { pubkeyLock } from '../../primitives/lock.ts';
import { bytesEqual } from '../../util/bytes.ts';
import { Penalty } from '../scoring.ts';
import { createSyncMetrics } from './metrics.ts';
import type { SyncStatus } from './status.ts';
import { BlockSyncer, type SyncOptions } from './syncer.ts';

const BLOCKS = 1200;
let source: SourceChain;
const opened: TestChain[] = [];

before(async () => {
  source = await buildSourceChain({ blocks: BLOCKS, txsPerBlock: 2 });
});

after(async () => {
  for (const t of opened) await t.destroy();
  await source.t.destroy();
});

async function setup(
  peers: Array<{ id: string; behaviour?: MemoryPeerBehaviour }>,
  opts: Partial<SyncOptions> = {},
  extra: { clock?: ManualClock; registry?: Registry; from?: SourceChain } = {},
) {
  const from = extra.from ?? source;
  const target = await openSyncTarget(from);
  opened.push(target.t);
  const memoryPeers = peers.map((p) => new MemoryPeer(p.id, from, p.behaviour));
  const set = new MemoryNetwork(from);
  for (const peer of memoryPeers) {
    peer.onDisconnect = () => set.remove(peer.id);
    await set.add(peer);
  }
  let statusRead: () => SyncStatus = () => {
    throw new Error('not yet');
  };
  const metrics =
    extra.registry === undefined ? null : createSyncMetrics(extra.registry, () => statusRead());
  const syncer = new BlockSyncer(
    // statusMaxAgeMs 0: statuses are asked, not taken from the handshake (no host refreshes them here).
    {
      requestTimeoutMs: 2_000,
      statusIntervalMs: 500,
      statusMaxAgeMs: 0,
      peerCooldownMs: 300,
      ...opts,
    },
    {
      chain: target.t.chain,
      importer: target.importer,
      peers: set,
      client: set,
      signatures: new SignatureChecker({ verifier: target.t.verifier, cache: null }),
      mempool: target.mempool,
      logger: silentLogger(),
      metrics,
      ...(extra.clock === undefined ? {} : { clock: extra.clock }),
    },
  );
  statusRead = () => syncer.status();
  return { target, peers: memoryPeers, set, syncer };
}

function waitFor(
  syncer: BlockSyncer,
  test: () => boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (test()) return resolve();
      if (Date.now() - started > timeoutMs)
        return reject(
          new Error(`timed out waiting for ${what}: ${JSON.stringify(syncer.status())}`),
        );
      setTimeout(poll, 10);
    };
    poll();
  });
}

async function assertSameChain(t: TestChain, height: number, from = source): Promise<void> {
  assert.equal(t.chain.tipHeight, height);
  assert.ok(bytesEqual(t.chain.tip.hash, (await from.t.chain.getHashAt(height))!));
}

describe('BlockSyncer', () => {
  it(`catches up ${BLOCKS} blocks from three peers in parallel, with sane progress and metrics`, async () => {
    const registry = new Registry();
    // Honest peers only: a deadline a busy CI machine cannot miss, so any penalty is a real fault.
    const { target, peers, syncer } = await setup(
      [{ id: 'a' }, { id: 'b', behaviour: { delayMs: 5 } }, { id: 'c' }],
      { requestTimeoutMs: 10_000 },
      { registry },
    );
    assert.equal(syncer.state, 'idle');
    const seen: SyncStatus[] = [];
    syncer.events.on('progress', () => seen.push(syncer.status()));
    const states: string[] = [];
    syncer.events.on('state', (s) => states.push(s));
    const started = performance.now();
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 45_000, 'synced');
    const seconds = (performance.now() - started) / 1000;
    await assertSameChain(target.t, BLOCKS);
    assert.deepEqual(states, ['syncing', 'synced']);

    // Every peer served ranges; nobody was penalised.
    for (const peer of peers) {
      assert.ok(peer.requests.length >= 3, `${peer.id} served ${peer.requests.length} ranges`);
      assert.deepEqual(peer.penalties, []);
    }
    // Progress: monotonic, never above the target, a positive rate, an ETA while behind.
    assert.ok(seen.length >= BLOCKS / 64 - 1);
    for (let i = 1; i < seen.length; i++)
      assert.ok(seen[i]!.currentHeight >= seen[i - 1]!.currentHeight);
    for (const s of seen) {
      assert.equal(s.targetHeight, BLOCKS);
      assert.ok(s.currentHeight <= s.targetHeight);
      assert.ok(s.blocksPerSecond >= 0);
    }
    const mid = seen[Math.floor(seen.length / 2)]!;
    assert.equal(mid.state, 'syncing');
    assert.ok(mid.blocksPerSecond > 0, JSON.stringify(mid));
    assert.ok(mid.etaSeconds !== null && mid.etaSeconds > 0);
    assert.ok(mid.etaSeconds < 10 * seconds + 10, `eta ${mid.etaSeconds}s`);
    const final = syncer.status();
    assert.equal(final.state, 'synced');
    assert.equal(final.currentHeight, BLOCKS);
    assert.equal(final.targetHeight, BLOCKS);
    assert.equal(final.etaSeconds, 0);
    assert.equal(final.peers, 3);
    assert.equal(syncer.isFarBehind(10), false);

    const text = await registry.metrics();
    assert.match(text, new RegExp(`utxod_sync_blocks_total ${BLOCKS}\\b`));
    assert.match(text, new RegExp(`utxod_sync_transactions_total ${BLOCKS * 3}\\b`));
    assert.match(text, new RegExp(`utxod_sync_target_height ${BLOCKS}\\b`));
    assert.match(text, /utxod_sync_state 2\b/);
    await syncer.stop();
    assert.equal(syncer.state, 'idle');
  });

  it('penalises a peer serving corrupted blocks, refetches its ranges from an honest peer', async () => {
    const { target, peers, syncer } = await setup([
      { id: 'liar', behaviour: { height: 300, corruptFrom: 100 } },
      { id: 'honest', behaviour: { height: 300 } },
    ]);
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 30_000, 'synced');
    await assertSameChain(target.t, 300);
    const [liar, honest] = peers;
    assert.ok(liar!.penalties.some((p) => p.penalty === 100 && /BLOCK_BAD_TX_ROOT/.test(p.reason)));
    assert.deepEqual(honest!.penalties, []);
    // Once caught, the liar gets no more work and no longer counts.
    const afterBan = liar!.requests.length;
    assert.equal(syncer.status().peers, 1);
    await syncer.stop();
    assert.equal(liar!.requests.length, afterBan);
  });

  it('penalises a peer whose validly certified block fails full validation in the importer', async () => {
    const { target, peers, syncer } = await setup([
      { id: 'liar', behaviour: { height: 200, badSignedFrom: 60, maxPerResponse: 1 } },
      { id: 'honest', behaviour: { height: 200 } },
    ]);
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 30_000, 'synced');
    await assertSameChain(target.t, 200);
    const [liar, honest] = peers;
    assert.ok(
      liar!.penalties.some(
        (p) => p.penalty === 100 && /BLOCK_BAD_(UTXO_ROOT|PREV|COMMIT)/.test(p.reason),
      ),
      JSON.stringify(liar!.penalties),
    );
    assert.deepEqual(honest!.penalties, []);
    await syncer.stop();
  });

  it('treats wrong heights in a range as a protocol violation', async () => {
    const { target, peers, syncer } = await setup([
      { id: 'shuffler', behaviour: { height: 200, wrongHeights: true } },
      { id: 'honest', behaviour: { height: 200 } },
    ]);
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 30_000, 'synced');
    await assertSameChain(target.t, 200);
    assert.ok(
      peers[0]!.penalties.some(
        (p) => p.penalty === Penalty.violation && /SYNC_WRONG_HEIGHT/.test(p.reason),
      ),
    );
    await syncer.stop();
  });

  it('moves the range of a stalling peer to another peer after the request timeout', async () => {
    const { target, peers, syncer } = await setup(
      [
        { id: 'staller', behaviour: { height: 300, stallFrom: 65 } },
        { id: 'honest', behaviour: { height: 300, delayMs: 2 } },
      ],
      // Real clock: the timeout must be long enough that an honest peer under a
      // fully loaded CI machine never hits it (exact timing: the ManualClock test below).
      { requestTimeoutMs: 1_500, peerCooldownMs: 5_000 },
    );
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 30_000, 'synced');
    await assertSameChain(target.t, 300);
    const [staller, honest] = peers;
    // A stall is a timeout, or, while its claims are not yet backed, a refuted claim.
    assert.ok(
      staller!.penalties.some(
        (p) => p.penalty === Penalty.timeout || /SYNC_UNBACKED_CLAIM/.test(p.reason),
      ),
      JSON.stringify(staller!.penalties),
    );
    assert.deepEqual(honest!.penalties, []);
    // The honest peer served what the staller sat on.
    const stalled = staller!.requests.filter((r) => r.start >= 65);
    assert.ok(stalled.length >= 1);
    for (const r of stalled)
      assert.ok(honest!.requests.some((h) => h.start <= r.start && h.start + h.count > r.start));
    await syncer.stop();
  });

  it('times out with an injected clock: no real waiting, the range goes back to the queue', async () => {
    const clock = new ManualClock();
    const { target, peers, set, syncer } = await setup(
      [{ id: 'staller', behaviour: { height: 100, stallFrom: 0 } }],
      { requestTimeoutMs: 10_000, probeTimeoutMs: 10_000, peerCooldownMs: 60_000 },
      { clock },
    );
    syncer.start();
    await waitFor(syncer, () => syncer.status().rangesInFlight === 2, 5_000, 'two requests');
    assert.equal(syncer.state, 'syncing');
    // A lone claim nobody has backed is probed, not trusted: no target, not far behind.
    assert.equal(syncer.status().targetHeight, 0);
    assert.equal(syncer.isFarBehind(10), false);
    assert.ok(
      peers[0]!.requests.every((r) => r.count === 1),
      'probes ask for one block',
    );
    clock.advance(9_999);
    assert.equal(syncer.status().rangesInFlight, 2);
    clock.advance(1);
    assert.equal(syncer.status().rangesInFlight, 0);
    // Two unanswered probes: two refutations, the second costing twice the first.
    assert.deepEqual(
      peers[0]!.penalties.map((p) => [p.penalty, p.reason.split(':')[0]]),
      [
        [Penalty.unbackedClaim, 'SYNC_UNBACKED_CLAIM'],
        [Penalty.unbackedClaim * 2, 'SYNC_UNBACKED_CLAIM'],
      ],
    );
    // An honest peer arrives; the staller is cooling down, so it does the work.
    const honest = new MemoryPeer('honest', source, { height: 100 });
    set.add(honest);
    await waitFor(syncer, () => target.t.chain.tipHeight === 100, 20_000, 'height 100');
    await waitFor(syncer, () => syncer.state === 'synced', 5_000, 'synced');
    assert.equal(peers[0]!.requests.length, 2);
    await syncer.stop();
  });

  it('survives a peer disconnecting mid-range', async () => {
    // The honest peer must never be penalised: a deadline a loaded machine cannot miss.
    const { target, peers, set, syncer } = await setup(
      [
        { id: 'flaky', behaviour: { height: 400, disconnectAfter: 2 } },
        { id: 'honest', behaviour: { height: 400, delayMs: 1 } },
      ],
      { requestTimeoutMs: 10_000 },
    );
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 30_000, 'synced');
    await assertSameChain(target.t, 400);
    assert.equal(set.get('flaky'), undefined);
    assert.ok(peers[0]!.requests.length >= 3);
    assert.deepEqual(peers[1]!.penalties, []);
    assert.equal(syncer.status().peers, 1);
    await syncer.stop();
  });

  it('stays idle without peers, and reports far behind only against an agreed or proven target', async () => {
    const { syncer, set } = await setup([], { requestTimeoutMs: 60_000, probeTimeoutMs: 60_000 });
    syncer.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(syncer.state, 'idle');
    assert.equal(syncer.isFarBehind(0), false);
    set.add(new MemoryPeer('late', source, { height: 500, stallFrom: 0 }));
    await waitFor(syncer, () => syncer.state === 'syncing', 5_000, 'syncing');
    // One peer's word is not enough to call the node far behind or hold back relay...
    assert.equal(syncer.isFarBehind(100), false);
    assert.equal(syncer.deferringTransactions, false);
    // ...two peers that agree are.
    set.add(new MemoryPeer('second', source, { height: 500, stallFrom: 0 }));
    await waitFor(syncer, () => syncer.isFarBehind(100), 5_000, 'far behind');
    assert.equal(syncer.isFarBehind(1000), false);
    assert.equal(syncer.status().targetHeight, 500);
    assert.equal(syncer.deferringTransactions, true);
    await syncer.stop();
  });

  it('a peer claiming a tip it cannot serve changes nothing, is refuted fast, and so is a new identity', async () => {
    const { target, set, syncer } = await setup([{ id: 'honest', behaviour: { height: 300 } }], {
      peerCooldownMs: 100,
    });
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 30_000, 'synced');
    assert.equal(target.t.chain.tipHeight, 300);
    const states: string[] = [];
    syncer.events.on('state', (s) => states.push(s));
    let trusted = true;
    const watch = setInterval(() => {
      if (syncer.isFarBehind(10) || syncer.deferringTransactions || syncer.state !== 'synced')
        trusted = false;
    }, 5);
    try {
      for (const id of ['liar', 'liar-again']) {
        const liar = new MemoryPeer(id, source, { height: 300, claimHeight: 5_000 });
        set.add(liar);
        // Refuted on every round, each costing twice the last: banned within a few rounds.
        await waitFor(syncer, () => liar.penaltyTotal >= 100, 10_000, `${id} penalised to a ban`);
        assert.deepEqual(
          liar.penalties.slice(0, 4).map((p) => p.penalty),
          [10, 20, 40, 80],
        );
        assert.ok(liar.penalties.every((p) => /^SYNC_UNBACKED_CLAIM/.test(p.reason)));
        set.remove(id);
      }
    } finally {
      clearInterval(watch);
    }
    assert.ok(trusted, 'the node stayed synced, ready, and relaying while the liars claimed');
    assert.deepEqual(states, []);
    assert.equal(syncer.status().targetHeight, 300);
    await syncer.stop();
  });

  it('fetches at once when gossip relays a block above tip + 1 (a missed block)', async () => {
    const small = await buildSourceChain({ blocks: 30, txsPerBlock: 0 });
    try {
      const { target, set, syncer } = await setup(
        [{ id: 'a' }],
        { statusIntervalMs: 60_000, followGraceMs: 60_000 },
        { from: small },
      );
      syncer.start();
      await waitFor(syncer, () => syncer.state === 'synced', 10_000, 'synced');
      await small.extend(2);
      // Within followLagBlocks and grace, and no status poll due: only the hint moves sync.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(target.t.chain.tipHeight, 30);
      set.hint('a', 32);
      await waitFor(syncer, () => target.t.chain.tipHeight === 32, 5_000, 'height 32');
      assert.equal(syncer.state, 'synced');
      await syncer.stop();
    } finally {
      await small.t.destroy();
    }
  });

  it('follows a growing chain, then fills the mempool from peers after catch-up', async () => {
    const small = await buildSourceChain({ blocks: 40, txsPerBlock: 1 });
    try {
      const { target, peers, syncer } = await setup(
        [{ id: 'a' }, { id: 'b' }],
        { statusIntervalMs: 100, followGraceMs: 200 },
        { from: small },
      );
      const states: string[] = [];
      syncer.events.on('state', (s) => states.push(s));
      syncer.start();
      await waitFor(syncer, () => syncer.state === 'synced', 20_000, 'synced');
      await assertSameChain(target.t, 40, small);
      await small.extend(25);
      await waitFor(syncer, () => target.t.chain.tipHeight === 65, 20_000, 'height 65');
      await waitFor(syncer, () => syncer.state === 'synced', 5_000, 'synced again');
      await assertSameChain(target.t, 65, small);
      assert.deepEqual(states.slice(0, 3), ['syncing', 'synced', 'syncing']);

      // A lag within followLagBlocks is left to gossip for followGraceMs, then fetched.
      await small.extend(1);
      await waitFor(syncer, () => target.t.chain.tipHeight === 66, 5_000, 'height 66');

      // Mempool: a transaction peer a holds, and one gossip handed over while syncing,
      // reach our mempool after the next catch-up. They spend early coinbases (mature, unspent).
      const spendCoinbase = async (height: number) => {
        const coinbase = (await small.t.chain.requireBlockAt(height)).txs[0]!;
        const out = coinbase.outputs[0]!;
        return buildTransaction({
          chainId: CHAIN_ID,
          coins: [
            { outpoint: { txid: coinbase.txid, index: 0 }, amount: out.amount, lock: out.lock },
          ],
          outputs: [{ amount: COIN, lock: pubkeyLock(sourceOwner(0).publicKey) }],
          changeLock: out.lock,
          feeRate: 2000n,
          keys: [small.validator],
        });
      };
      const held = await spendCoinbase(1);
      const gossiped = await spendCoinbase(2);
      peers[0]!.transactions = [held];
      syncer.deferTransaction(gossiped, 'b');
      const synced = new Promise<number>((resolve) => syncer.events.once('mempoolSynced', resolve));
      await small.extend(10); // behind again -> syncing -> synced -> mempool sync
      assert.equal(await synced, 2);
      assert.ok(target.mempool.has(held.txid));
      assert.ok(target.mempool.has(gossiped.txid));
      await syncer.stop();
    } finally {
      await small.t.destroy();
    }
  });

  // A peer that began from a snapshot holds no blocks below it and says so in its status.
  it('asks a peer that began from a snapshot only for heights it holds, and never blames it', async () => {
    const SNAPSHOT = 160;
    const { target, peers, syncer } = await setup(
      [
        { id: 'snapshot', behaviour: { height: 240, earliest: SNAPSHOT } },
        { id: 'archive', behaviour: { height: 240 } },
      ],
      { requestTimeoutMs: 10_000 },
    );
    syncer.start();
    await waitFor(syncer, () => syncer.state === 'synced', 60_000, 'synced');
    await assertSameChain(target.t, 240);
    const [snapshot, archive] = peers;
    for (const r of snapshot!.requests) assert.ok(r.start >= SNAPSHOT, JSON.stringify(r));
    assert.ok(archive!.requests.some((r) => r.start < SNAPSHOT));
    assert.deepEqual(snapshot!.penalties, []);
    assert.deepEqual(archive!.penalties, []);
    await syncer.stop();
  });

  it('with only a snapshot peer, nothing below its earliest height is asked of it', async () => {
    const SNAPSHOT = 160;
    const { target, peers, syncer } = await setup(
      [{ id: 'snapshot', behaviour: { height: 240, earliest: SNAPSHOT } }],
      { requestTimeoutMs: 10_000 },
    );
    syncer.start();
    // Long enough for several status rounds and scheduling passes.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await syncer.stop();
    // Nothing below its earliest height can come from it, so nothing connects; it may be
    // asked ahead for what it holds, but never for what it does not.
    assert.equal(target.t.chain.tipHeight, 0);
    for (const r of peers[0]!.requests) assert.ok(r.start >= SNAPSHOT, JSON.stringify(r));
    assert.deepEqual(peers[0]!.penalties, []);
  });
});
