import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryChain, outputsOf, spend, TestKey } from '../../test/support/mempool-fixture.ts';
import { outpointKey, type Transaction } from '../primitives/index.ts';
import { bytesKey } from '../util/index.ts';
import { MempoolEntry } from './entry.ts';
import { TxGraph } from './graph.ts';

// The graph below the policy, driven directly: the walk limits that bound
// the work an admission can cause, and the re-totalling of ancestors on the
// two removal paths, including the one the mempool reaches only when a block
// confirms a child whose pool parent it has not (yet) removed.

const alice = new TestKey(1);
let sequence = 0;

function entry(tx: Transaction, fee: bigint): MempoolEntry {
  return new MempoolEntry({
    tx,
    key: bytesKey(tx.txid),
    inputKeys: tx.inputs.map((i) => bytesKey(outpointKey(i.prevout))),
    fee,
    time: 0,
    sequence: sequence++,
  });
}

/** Inserts `tx` below the entries of `parents`. */
function add(graph: TxGraph, tx: Transaction, fee: bigint, parents: MempoolEntry[] = []) {
  const e = entry(tx, fee);
  graph.insert(e, new Set(parents));
  return e;
}

/** A chain of `n` entries, each spending the previous one's output. */
function chainOf(graph: TxGraph, n: number): MempoolEntry[] {
  const chain = new MemoryChain();
  let coin = chain.fund(alice, 1_000_000n);
  const out: MempoolEntry[] = [];
  for (let i = 0; i < n; i++) {
    const tx = spend([coin], 1000n);
    out.push(add(graph, tx, 1000n, out.slice(-1)));
    coin = outputsOf(tx, alice)[0]!;
  }
  return out;
}

/**
 * A cheap parent P kept up by its rich child C (P's eviction score is the
 * package's), and an unrelated Q in between: P evicts after Q until C goes.
 */
function cheapParentRichChild(graph: TxGraph) {
  const chain = new MemoryChain();
  const pTx = spend([chain.fund(alice, 1_000_000n)], 100n);
  const p = add(graph, pTx, 100n);
  const q = add(graph, spend([chain.fund(alice, 1_000_000n)], 5000n), 5000n);
  // Inserted last, with the best score, C is the heap's last slot: removing
  // it moves nothing, so only the removal's own re-sort can restore order.
  const c = add(graph, spend([outputsOf(pTx, alice)[0]!], 100_000n), 100_000n, [p]);
  assert.equal(graph.evictionOrder.peek(), q);
  return { p, c, q };
}

describe('mempool graph: bounded walks', () => {
  it('stops an ancestor walk once more than the limit are found', () => {
    const graph = new TxGraph();
    const chain = chainOf(graph, 6);
    const last = chain.at(-1)!;
    assert.equal(graph.ancestorsOf(last.parents).size, 5);
    assert.equal(graph.ancestorsOf(last.parents, 2).size, 3);
    assert.equal(graph.ancestorsOf(last.parents, 5).size, 5);
    assert.equal(graph.ancestorsOf(last.parents, 4).size, 5);
    graph.checkConsistency();
  });

  it('stops a descendant walk once more than the limit are found', () => {
    const graph = new TxGraph();
    const [first] = chainOf(graph, 6);
    assert.equal(graph.withDescendants([first!]).size, 6);
    assert.equal(graph.withDescendants([first!], 2).size, 3);
    assert.equal(graph.withDescendants([first!], 6).size, 6);
    assert.equal(graph.withDescendants([first!], 5).size, 6);
  });
});

describe('mempool graph: removals re-total the ancestors that stay', () => {
  it('removing a child with its descendants re-sorts its parent for eviction', () => {
    const graph = new TxGraph();
    const { p, c, q } = cheapParentRichChild(graph);
    assert.deepEqual(graph.removeWithDescendants(new Set([c])), [c]);
    // A removed entry drops its links, so one held by a caller (an RPC
    // answer, a replaced list) keeps no live part of the graph reachable.
    assert.equal(c.parents.size, 0);
    assert.equal(p.descendantCount, 1);
    assert.equal(p.descendantFees, 100n);
    assert.equal(graph.evictionOrder.peek(), p);
    assert.equal(graph.byTxid.has(q.key), true);
    graph.checkConsistency();
  });

  it('confirming a child whose pool parent stays recounts the parent', () => {
    const graph = new TxGraph();
    const { p, c } = cheapParentRichChild(graph);
    graph.removeKeepingDescendants(c);
    assert.equal(p.descendantCount, 1);
    assert.equal(p.descendantSize, p.size);
    assert.equal(p.descendantFees, 100n);
    assert.equal(graph.evictionOrder.peek(), p);
    assert.equal(graph.byTxid.has(c.key), false);
    graph.checkConsistency();
  });

  it('confirming a rich parent re-sorts its cheap child for mining', () => {
    // The child's mining score was the package's (rich parent + itself);
    // once the parent is confirmed it is the child's own, below R's. The
    // parent's removal leaves the child at the top of the heap, so only the
    // re-sort after re-totalling puts R first.
    const graph = new TxGraph();
    const chain = new MemoryChain();
    const aTx = spend([chain.fund(alice, 1_000_000n)], 50_000n);
    const a = add(graph, aTx, 50_000n);
    const r = add(graph, spend([chain.fund(alice, 1_000_000n)], 3000n), 3000n);
    const b = add(graph, spend([outputsOf(aTx, alice)[0]!], 100n), 100n, [a]);
    assert.equal(graph.miningOrder.peek(), a);
    graph.removeKeepingDescendants(a);
    assert.equal(a.children.size, 0);
    assert.equal(b.parents.size, 0);
    assert.equal(b.ancestorFees, 100n);
    assert.equal(graph.miningOrder.peek(), r);
    graph.checkConsistency();
  });

  it('confirming a parent keeps its children and lowers their ancestor totals', () => {
    const graph = new TxGraph();
    const [a, b, c] = chainOf(graph, 3);
    graph.removeKeepingDescendants(a!);
    assert.equal(b!.ancestorCount, 1);
    assert.equal(c!.ancestorCount, 2);
    assert.equal(c!.ancestorFees, 2000n);
    assert.equal(b!.descendantCount, 2);
    graph.checkConsistency();
  });
});
