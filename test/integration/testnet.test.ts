/**
 * Four validators as four real `utxod start` processes, laid out by
 * `utxod testnet init` (real LevelDB, libp2p on loopback, real HTTP):
 * they commit together; one killed with SIGKILL does not stop the other
 * three and signs again after its restart; two stopped (half the power)
 * halt the chain without a fork; restarted, it goes on; every node holds the
 * same block at every height.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getJson, NodeProcess } from '../support/node-process.ts';
import { initTestnet, type TestnetNodeLayout, tipHeight as tipOf } from '../support/testnet.ts';

interface HeaderJson {
  readonly hash: string;
  readonly height: number;
  readonly proposer: string;
}

const root = mkdtempSync(join(tmpdir(), 'utxod-testnet-'));
const out = join(root, 'net');
const running = new Map<number, NodeProcess>();
let nodes: readonly TestnetNodeLayout[] = [];

function start(i: number): NodeProcess {
  const node = NodeProcess.startConfigured(nodes[i]!.datadir);
  running.set(i, node);
  return node;
}

async function stop(i: number, signal: NodeJS.Signals): Promise<void> {
  const node = running.get(i);
  running.delete(i);
  await node?.stop(signal);
}

function tipHeight(i: number): Promise<number> {
  return tipOf(nodes[i]!.rpcUrl);
}

/** Waits until every listed node's tip is at least `height`; fails after `timeoutMs`. */
async function waitForHeight(
  which: readonly number[],
  height: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const heights = await Promise.all(which.map((i) => tipHeight(i).catch(() => -1)));
    if (heights.every((h) => h >= height)) return;
    if (Date.now() > deadline)
      throw new Error(`nodes ${which.join(',')} at ${heights.join(',')}, wanted ${height}`);
    await sleep(200);
  }
}

async function headers(i: number, from: number, count: number): Promise<HeaderJson[]> {
  const { body } = await getJson<{ headers: HeaderJson[] }>(
    `${nodes[i]!.rpcUrl}/api/v1/headers?from=${from}&count=${count}`,
  );
  return body.headers;
}

describe('four-validator testnet (processes)', () => {
  after(async () => {
    await Promise.all([...running.keys()].map((i) => stop(i, 'SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  });

  it('commits with four, survives a kill, halts at half the power, resumes, never forks', async () => {
    nodes = initTestnet(out, { validators: 4, blockIntervalMs: 500 });
    assert.equal(nodes.length, 4);

    for (let i = 0; i < 4; i++) start(i);
    await Promise.all([...running.values()].map((n) => n.url(120_000)));
    await waitForHeight([0, 1, 2, 3], 4, 60_000);

    // One validator (a quarter of the power) killed: the other three go on.
    await stop(3, 'SIGKILL');
    const atKill = Math.max(...(await Promise.all([0, 1, 2].map(tipHeight))));
    await waitForHeight([0, 1, 2], atKill + 4, 30_000);

    // Restarted, it catches up and proposes again within 20 s of being back.
    const restarted = start(3);
    await restarted.url(120_000);
    const back = await tipHeight(0);
    const deadline = Date.now() + 20_000;
    let proposedAgain = false;
    while (!proposedAgain && Date.now() < deadline) {
      const tip = await tipHeight(3);
      if (tip > back) {
        const recent = await headers(3, back + 1, tip - back);
        proposedAgain = recent.some((h) => h.proposer === nodes[3]!.validatorKey);
      }
      if (!proposedAgain) await sleep(250);
    }
    assert.ok(proposedAgain, 'the restarted validator proposed no block within 20 s');

    // Half the power gone: no block can reach +2/3, so the chain halts.
    await Promise.all([stop(2, 'SIGTERM'), stop(3, 'SIGTERM')]);
    await sleep(1_500); // a block already decided may still land
    const halted = await tipHeight(0);
    await sleep(4_000);
    assert.equal(await tipHeight(0), halted, 'two of four validators committed a block');
    assert.equal(await tipHeight(1), halted);

    // Back to four: the chain resumes from where it stopped.
    start(2);
    start(3);
    await waitForHeight([0, 1, 2, 3], halted + 3, 40_000);

    // One block per height, the same on every node.
    const last = Math.min(...(await Promise.all([0, 1, 2, 3].map(tipHeight))));
    const chains = await Promise.all([0, 1, 2, 3].map((i) => headers(i, 1, last)));
    for (let i = 1; i < 4; i++) {
      assert.deepEqual(
        chains[i]!.map((h) => h.hash),
        chains[0]!.map((h) => h.hash),
        `node${i} differs from node0`,
      );
    }
    assert.equal(chains[0]!.length, last);
    // Every validator proposed at some height: the round robin covers all four.
    const proposers = new Set(chains[0]!.map((h) => h.proposer));
    assert.equal(proposers.size, 4);
  });
});
