/**
 * `utxod contract` against a real devnet node process, through the cookie:
 * deploy, call and query, then the contract as the node's API shows it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NodeProcess, runUtxod, runUtxodAsync } from '../support/node-process.ts';

const datadir = mkdtempSync(join(tmpdir(), 'utxod-contract-node-'));
const keyFile = join(datadir, 'deployer.json');
const COUNTER = join(datadir, 'counter.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function contract(args: string[]): Promise<Run> {
  return runUtxodAsync(['contract', ...args, '--datadir', datadir], {
    UTXOD_TOKEN: '',
    UTXOD_RPC: '',
  });
}

describe('utxod contract against a node', () => {
  let node: NodeProcess;

  before(async () => {
    assert.equal(runUtxod(['init', '--datadir', datadir]).status, 0);
    // Index 0 of the devnet mnemonic is funded in the devnet genesis.
    const derived = runUtxod(['keys', 'derive', '--index', '0', '--out', keyFile]);
    assert.equal(derived.status, 0, derived.stderr);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      COUNTER,
      `export function init(ctx, n) { ctx.storage.set('n', n); }
export function add(ctx, by) { const n = ctx.storage.get('n') + by; ctx.storage.set('n', n); return n; }
export function get(ctx) { return ctx.storage.get('n'); }
`,
    );
    node = NodeProcess.start(datadir, ['--block-interval', '200']);
    await node.url(60_000);
  });
  after(async () => {
    await node?.stop('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('deploys, calls and queries; the API shows the contract and its storage', async () => {
    const deploy = await contract([
      'deploy',
      COUNTER,
      '--from-key',
      keyFile,
      '--args',
      '[5]',
      '--fee-rate',
      '2000',
      '--wait',
    ]);
    assert.equal(deploy.status, 0, deploy.stderr);
    const id = /contract: ([0-9a-f]{64})/.exec(deploy.stdout)?.[1];
    assert.ok(id, deploy.stdout);
    assert.match(deploy.stdout, /address: {2}\S+ \(pay here/);
    const call = await contract([
      'call',
      id,
      'add',
      '--from-key',
      keyFile,
      '--args',
      '[2]',
      '--fee-rate',
      '2000',
      '--wait',
    ]);
    assert.equal(call.status, 0, call.stderr);
    const query = await contract(['query', id, 'get']);
    assert.equal(query.status, 0, query.stderr);
    assert.match(query.stdout, /^7$/m);
    const res = await fetch(`${await node.url()}/api/v1/contracts/${id}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      methods: string[];
      storage: { key: string; value: string }[];
    };
    assert.deepEqual(body.methods, ['init', 'add', 'get']);
    assert.deepEqual(
      body.storage.map((e) => [e.key, e.value]),
      [['n', '7']],
    );
  });
});
