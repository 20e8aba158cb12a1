import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryChain, spend, TestKey } from '../../test/support/mempool-fixture.ts';
import { VerificationError } from '../consensus/errors.ts';
import { silentLogger } from '../logger/index.ts';
import { MempoolError } from '../mempool/errors.ts';
import type { AdmissionResult } from '../mempool/index.ts';
import { Block } from '../primitives/block.ts';
import { CommitCertificate } from '../primitives/commit.ts';
import { HEADER_VERSION, Header } from '../primitives/header.ts';
import { encodeVote } from './consensus-messages.ts';
import {
  blockValidator,
  consensusValidator,
  txValidator,
  type ValidatorDeps,
} from './gossip-validators.ts';
import { encodeBlockWithCommit } from './messages.ts';
import { encodeTxBatch } from './tx-batch.ts';

function deps(over: Partial<ValidatorDeps> = {}) {
  const penalties: Array<[string, number, string]> = [];
  const ahead: number[] = [];
  const d: ValidatorDeps = {
    chain: { tipHeight: 4, getHashAt: async () => undefined },
    mempool: {
      add: async () => ({ status: 'orphan', txid: new Uint8Array(32), missingParents: [] }),
    },
    importer: {
      importBlock: async () => {
        throw new Error('not expected');
      },
    },
    logger: silentLogger(),
    metrics: null,
    penalize: (peer, penalty, reason) => penalties.push([peer, penalty, reason]),
    onBlockAhead: (_peer, height) => ahead.push(height),
    consensusHandler: () => null,
    txDeferral: () => null,
    ...over,
  };
  return { d, penalties, ahead };
}

const key = new TestKey(3);
const chain = new MemoryChain();
const tx = spend([chain.fund(key, 1_000_000n)], 10_000n);
const tx2 = spend([chain.fund(key, 2_000_000n)], 10_000n);
/** A gossip message holding `tx` alone. */
const one = encodeTxBatch([tx.encode()]);

function blockAt(height: number): Block {
  const header = new Header({
    version: HEADER_VERSION,
    height,
    time: 1000 + height,
    prevHash: new Uint8Array(32),
    txRoot: new Uint8Array(32),
    utxoRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32),
    validatorSetHash: new Uint8Array(32),
    nextValidatorSetHash: new Uint8Array(32),
    lastCommitHash: new Uint8Array(32),
    evidenceRoot: new Uint8Array(32),
    proposer: new Uint8Array(33),
  });
  return new Block(header, CommitCertificate.empty(new Uint8Array(32)), []);
}

function blockMessage(height: number): Uint8Array {
  const block = blockAt(height);
  return encodeBlockWithCommit({
    block,
    commit: new CommitCertificate({ height, round: 0, blockHash: block.hash, signatures: [] }),
  });
}

describe('gossip validators', () => {
  it('tx: while sync defers transactions they go to the syncer, not the mempool', async () => {
    const deferred: Array<[string, string | null]> = [];
    let admitted = 0;
    const deferral = {
      deferringTransactions: true,
      deferTransaction: (t: typeof tx, peer: string | null) => deferred.push([t.txid.join(), peer]),
    };
    const d = deps({
      txDeferral: () => deferral,
      mempool: {
        add: async () => {
          admitted++;
          return { status: 'accepted', txid: tx.txid, fee: 1n, replaced: [], resolvedOrphans: [] };
        },
      },
    });
    assert.equal(await txValidator(d.d)('p', one), 'ignore');
    assert.deepEqual(deferred, [[tx.txid.join(), 'p']]);
    assert.equal(admitted, 0);
    deferral.deferringTransactions = false;
    assert.equal(await txValidator(d.d)('p', one), 'accept');
    assert.equal(admitted, 1);
  });

  it('tx: accept on admission; ignore orphans and penalty-0 rejections', async () => {
    const accepted: AdmissionResult = {
      status: 'accepted',
      txid: tx.txid,
      fee: 1n,
      replaced: [],
      resolvedOrphans: [tx],
    };
    const a = deps({ mempool: { add: async () => accepted } });
    assert.equal(await txValidator(a.d)('p', one), 'accept');
    const o = deps();
    assert.equal(await txValidator(o.d)('p', one), 'ignore');
    const known = deps({
      mempool: {
        add: async () => {
          throw new MempoolError('MEMPOOL_ALREADY_KNOWN', 'known');
        },
      },
    });
    assert.equal(await txValidator(known.d)('p', one), 'ignore');
    assert.equal(known.penalties.length, 0);
  });

  it('tx: reject malformed bytes and rule breaks, with the penalty', async () => {
    const m = deps();
    assert.equal(await txValidator(m.d)('p', Uint8Array.of(1, 2, 3)), 'reject');
    assert.equal(m.penalties[0]?.[1], 100);
    const bad = deps({
      mempool: {
        add: async () => {
          throw new VerificationError('TX_BAD_SIGNATURE', 'bad');
        },
      },
    });
    assert.equal(await txValidator(bad.d)('p', one), 'reject');
    assert.deepEqual(
      bad.penalties.map((p) => p[1]),
      [100],
    );
    const huge = deps();
    assert.equal(await txValidator(huge.d)('p', new Uint8Array(2 * 1024 * 1024)), 'reject');
  });

  it('tx: a batch is admitted whole; any admission relays it, the worst penalty is charged once', async () => {
    const seen: string[] = [];
    const batch = encodeTxBatch([tx.encode(), tx2.encode()]);
    const mixed = deps({
      mempool: {
        add: async (t) => {
          seen.push(t.txid.join());
          if (t.txid.join() === tx.txid.join())
            throw new MempoolError('MEMPOOL_ALREADY_KNOWN', 'known');
          return { status: 'accepted', txid: t.txid, fee: 1n, replaced: [], resolvedOrphans: [] };
        },
      },
    });
    assert.equal(await txValidator(mixed.d)('p', batch), 'accept');
    assert.deepEqual(seen, [tx.txid.join(), tx2.txid.join()]);
    assert.equal(mixed.penalties.length, 0);

    const bad = deps({
      mempool: {
        add: async (t) => {
          if (t.txid.join() === tx.txid.join())
            throw new VerificationError('TX_BAD_SIGNATURE', 'bad');
          return { status: 'accepted', txid: t.txid, fee: 1n, replaced: [], resolvedOrphans: [] };
        },
      },
    });
    assert.equal(await txValidator(bad.d)('p', batch), 'reject');
    assert.deepEqual(
      bad.penalties.map((p) => p[1]),
      [100],
    );
    // A bare transaction (the tx/1 format) is not a batch.
    const bare = deps();
    assert.equal(await txValidator(bare.d)('p', tx.encode()), 'reject');
  });

  it('block: ignore stale and future blocks (hinting sync), import the next one', async () => {
    const s = deps();
    assert.equal(await blockValidator(s.d)('p', blockMessage(3)), 'ignore');
    assert.equal(await blockValidator(s.d)('p', blockMessage(9)), 'ignore');
    assert.deepEqual(s.ahead, [9]);
    let imported = 0;
    const n = deps({
      importer: {
        importBlock: async () => {
          imported++;
          return { height: 5, hash: new Uint8Array(32), txCount: 0, fees: 0n, durationMs: 1 };
        },
      },
    });
    assert.equal(await blockValidator(n.d)('p', blockMessage(5)), 'accept');
    assert.equal(imported, 1);
    const r = deps({
      importer: {
        importBlock: async () => {
          throw new VerificationError('BLOCK_BAD_COMMIT', 'forged');
        },
      },
    });
    assert.equal(await blockValidator(r.d)('p', blockMessage(5)), 'reject');
    assert.equal(r.penalties[0]?.[1], 100);
    const junk = deps();
    assert.equal(await blockValidator(junk.d)('p', blockMessage(5).subarray(3)), 'reject');
  });

  it('consensus: decoded, then ignored until an engine installs a handler', async () => {
    const vote = encodeVote({
      type: 1,
      height: 1,
      round: 0,
      blockHash: new Uint8Array(32),
      validatorIndex: 0,
      signature: new Uint8Array(64),
    });
    const none = deps();
    assert.equal(await consensusValidator('vote', none.d)('p', vote), 'ignore');
    assert.equal(await consensusValidator('vote', none.d)('p', vote.subarray(1)), 'reject');
    const seen: string[] = [];
    const engine = deps({
      consensusHandler: () => async (_peer, message) => {
        seen.push(message.kind);
        return 'accept';
      },
    });
    assert.equal(await consensusValidator('vote', engine.d)('p', vote), 'accept');
    assert.deepEqual(seen, ['vote']);
  });
});
