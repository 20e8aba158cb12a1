/**
 * `utxod snapshot create|list|export|import` as an operator runs them: a
 * producer's chain is snapshotted offline, exported to a file, and imported
 * into a fresh data directory of the same network, which then starts at the
 * snapshot height (blocks below answer 410 PRUNED) and follows the producer.
 * Its p2p status says where its history starts, so a node syncing from
 * genesis does not ask it for older blocks.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { openChainOffline } from '../../src/cli/offline.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { dataPaths, loadValidatorKey } from '../../src/node/datadir.ts';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import { ReqRespError } from '../../src/p2p/reqresp/errors.ts';
import { connectSoloBlock } from '../support/chain-fixture.ts';
import { getJson, initNodeDir, NodeProcess, runUtxod } from '../support/node-process.ts';
import { createTestPeer } from '../support/test-peer.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-snapcli-'));
const started: NodeProcess[] = [];
const SEEDED = 30;

describe('utxod snapshot commands', { timeout: 120_000 }, () => {
  let producer = '';
  let genesis = '';
  const file = join(root, 'chain.utxosnap');

  before(async () => {
    producer = initNodeDir(join(root, 'producer'));
    genesis = join(producer, 'genesis.json');
    const key = loadValidatorKey(dataPaths(producer))!;
    const offline = await openChainOffline(producer, silentLogger());
    try {
      for (let i = 0; i < SEEDED; i++) await connectSoloBlock(offline.chain, key);
    } finally {
      await offline.close();
    }
  });
  after(async () => {
    await Promise.all(started.map((n) => n.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  });

  it('create, list and export a snapshot', () => {
    const created = runUtxod([
      'snapshot',
      'create',
      '--datadir',
      producer,
      '--chunk-bytes',
      '2048',
    ]);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`^snapshot ${SEEDED} [0-9a-f]{64}: \\d+ coins`));
    const list = runUtxod(['snapshot', 'list', '--datadir', producer]);
    assert.match(list.stdout, new RegExp(`^${SEEDED}  block [0-9a-f]{64}  id [0-9a-f]{64}`));
    const exported = runUtxod(['snapshot', 'export', file, '--datadir', producer]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.ok(existsSync(file));
  });

  it('import refuses a damaged file and a snapshot that is not the trusted block', () => {
    const damaged = join(root, 'damaged.utxosnap');
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 1;
    writeFileSync(damaged, bytes);
    const target = initNodeDir(join(root, 'refused'), genesis);
    const bad = runUtxod(['snapshot', 'import', damaged, '--datadir', target]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /SNAPSHOT_MALFORMED/);
    const untrusted = runUtxod([
      'snapshot',
      'import',
      file,
      '--datadir',
      target,
      '--trusted-height',
      String(SEEDED),
      '--trusted-hash',
      '00'.repeat(32),
    ]);
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.stderr, /SNAPSHOT_TRUST_MISMATCH/);
    assert.equal(existsSync(join(target, 'chain')), false);
  });

  it('import opens the chain at the snapshot height; below it the API answers 410; it follows the producer', async () => {
    const target = initNodeDir(join(root, 'imported'), genesis);
    const imported = runUtxod(['snapshot', 'import', file, '--datadir', target]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, new RegExp(`chain now starts at height ${SEEDED}`));
    const verify = runUtxod(['verify-chain', '--datadir', target]);
    assert.equal(verify.status, 0, verify.stderr);

    const p = NodeProcess.start(producer, ['--p2p-host', '127.0.0.1', '--block-interval', '200']);
    started.push(p);
    const node = NodeProcess.start(target, [
      '--p2p-host',
      '127.0.0.1',
      '--log-level',
      'debug',
      '--bootstrap',
      await p.listenAddr(),
    ]);
    started.push(node);
    const url = await node.url();
    const pruned = await getJson<{ error: { code: string; details: { earliestHeight: number } } }>(
      `${url}/api/v1/blocks/height/${SEEDED - 1}`,
    );
    assert.equal(pruned.status, 410);
    assert.equal(pruned.body.error.code, 'PRUNED');
    assert.equal(pruned.body.error.details.earliestHeight, SEEDED);
    assert.equal((await getJson(`${url}/api/v1/blocks/height/${SEEDED}`)).status, 200);
    const headers = await getJson<{ error: { code: string } }>(
      `${url}/api/v1/headers?from=${SEEDED - 1}`,
    );
    assert.equal(headers.status, 410);
    assert.equal(headers.body.error.code, 'PRUNED');
    assert.equal((await getJson(`${url}/api/v1/headers?from=${SEEDED}`)).status, 200);
    const status = runUtxod(['status', '--datadir', target]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`history: from height ${SEEDED} \\(began from a snapshot\\)`),
    );
    await node.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) >= SEEDED + 3,
      40_000,
    );
  });

  it('the snapshot node says where its history starts: not asked for older blocks, "pruned" if asked anyway', async () => {
    const imported = started[1]!;
    const importedAddr = await imported.listenAddr();
    const importedId = importedAddr.split('/p2p/')[1]!;
    // A node syncing from genesis with only the snapshot node to ask.
    const fresh = NodeProcess.start(initNodeDir(join(root, 'fresh'), genesis), [
      '--p2p-host',
      '127.0.0.1',
      '--bootstrap',
      importedAddr,
    ]);
    started.push(fresh);
    await fresh.waitForLog((l) => l.msg === 'peer connected' && l['peer'] === importedId, 30_000);
    // Several status rounds and sync passes: it never asks for what the snapshot node lacks.
    await new Promise((r) => setTimeout(r, 3000));
    const refusals = () =>
      imported.logs.filter(
        (l) => l.msg === 'request refused' && l['protocol'] === 'blocks_by_range',
      );
    assert.deepEqual(refusals(), []);
    assert.equal(fresh.committedHeight, -1);

    // A peer that ignores the status asks anyway: an error frame saying "pruned".
    const parsed = parseGenesis(readFileSync(genesis, 'utf8'));
    const genesisHash = (await buildGenesisBlock(parsed)).block.hash;
    const peer = await createTestPeer({
      status: {
        protocolVersion: P2P_PROTOCOL_VERSION,
        chainId: parsed.chainId,
        genesisHash,
        tipHeight: 0,
        tipHash: genesisHash,
        earliestHeight: 0,
      },
    });
    try {
      await peer.libp2p.dial(multiaddr(importedAddr));
      const status = await peer.reqResp.getStatus(importedId);
      assert.equal(status.earliestHeight, SEEDED);
      assert.ok(status.tipHeight >= SEEDED);
      await assert.rejects(peer.reqResp.getBlocksByRange(importedId, 1, 8), (error: unknown) => {
        assert.ok(error instanceof ReqRespError);
        assert.equal(error.code, 'REQRESP_SERVER_ERROR');
        assert.match(
          error.message,
          new RegExp(`pruned: this node's chain starts at height ${SEEDED}`),
        );
        return true;
      });
      // From its earliest height on, it serves.
      const blocks = await peer.reqResp.getBlocksByRange(importedId, SEEDED, 1);
      assert.equal(blocks[0]?.block.height, SEEDED);
    } finally {
      await peer.close();
    }
    assert.equal(refusals().length, 1);
    const penalties = fresh.logs.filter(
      (l) => l['event'] === 'sync-peer-penalized' && l['peer'] === importedId,
    );
    assert.deepEqual(penalties, []);
  });
});
