/**
 * `utxod contract spend` against a real devnet node process: coins locked to
 * the 2-of-3 multisig of examples/contracts are refused with the node's typed
 * code while one owner signs, and spent once two do (one of them as the
 * wallet that pays the fee, or both on contract inputs with the fee taken
 * from the coins).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NodeProcess, runUtxod, runUtxodAsync } from '../support/node-process.ts';

const MULTISIG = fileURLToPath(new URL('../../examples/contracts/multisig.js', import.meta.url));
const datadir = mkdtempSync(join(tmpdir(), 'utxod-contract-spend-'));
const keys = [0, 1, 2].map((i) => join(datadir, `owner${i}.json`));
const FEE_RATE = ['--fee-rate', '2000'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function utxod(args: string[]): Promise<Run> {
  return runUtxodAsync([...args, '--datadir', datadir], { UTXOD_TOKEN: '', UTXOD_RPC: '' });
}

function publicKeyOf(file: string): string {
  return (JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string }).publicKey;
}

function addressOf(file: string): string {
  const shown = runUtxod(['keys', 'show', '--file', file, '--datadir', datadir]);
  const address = /address: +(\S+)/.exec(shown.stdout)?.[1];
  assert.ok(address, shown.stdout + shown.stderr);
  return address;
}

describe('utxod contract spend against a node', () => {
  let node: NodeProcess;
  let url = '';
  let contractAddress = '';

  async function coin(txid: string, index: number) {
    const res = await fetch(`${url}/api/v1/coins/${txid}/${index}`);
    return { status: res.status, body: (await res.json()) as { amount: string; address: string } };
  }

  /** Pays `amount` coins from owner 0 to the contract; returns the locked coin. */
  async function lock(amount: string): Promise<string> {
    const sent = await utxod([
      'send',
      '--from-key',
      keys[0]!,
      '--to',
      contractAddress,
      '--amount',
      amount,
      ...FEE_RATE,
      '--wait',
      '-q',
    ]);
    assert.equal(sent.status, 0, sent.stderr);
    return `${sent.stdout.trim()}:0`;
  }

  before(async () => {
    assert.equal(runUtxod(['init', '--datadir', datadir]).status, 0);
    // Indexes 0 to 2 of the devnet mnemonic are funded in the devnet genesis.
    for (const [i, file] of keys.entries()) {
      const derived = runUtxod(['keys', 'derive', '--index', String(i), '--out', file]);
      assert.equal(derived.status, 0, derived.stderr);
    }
    node = NodeProcess.start(datadir, ['--block-interval', '200']);
    url = await node.url(60_000);
    const owners = JSON.stringify([keys.map(publicKeyOf), 2]);
    const deploy = await utxod([
      'contract',
      'deploy',
      MULTISIG,
      '--from-key',
      keys[0]!,
      '--args',
      owners,
      ...FEE_RATE,
      '--wait',
    ]);
    assert.equal(deploy.status, 0, deploy.stderr);
    const address = /address: {2}(\S+)/.exec(deploy.stdout)?.[1];
    assert.ok(address, deploy.stdout);
    contractAddress = address;
  });
  after(async () => {
    await node?.stop('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('one owner is refused with CONTRACT_SPEND_REFUSED; two (one paying the fee) spend, the rest back to the contract', async () => {
    const locked = await lock('10');
    const [txid, vout] = locked.split(':') as [string, string];
    const recipient = addressOf(keys[1]!);
    const spend = (extra: string[]) =>
      utxod([
        'contract',
        'spend',
        '--coin',
        locked,
        '--to',
        recipient,
        '--amount',
        '4',
        ...FEE_RATE,
        ...extra,
      ]);

    const alone = await spend(['--sign-key', keys[1]!]);
    assert.notEqual(alone.status, 0);
    assert.match(alone.stderr, /^utxod: error \[CONTRACT_SPEND_REFUSED\]: /);
    const nobody = await spend([]);
    assert.match(nobody.stderr, /\[CONTRACT_SPEND_REFUSED\]/);
    // The stranger's coin is untouched by the refusals.
    assert.equal((await coin(txid, Number(vout))).status, 200);

    const both = await spend(['--sign-key', keys[1]!, '--from-key', keys[2]!, '--wait']);
    assert.equal(both.status, 0, both.stderr);
    const spentIn = /txid: +([0-9a-f]{64})/.exec(both.stdout)?.[1];
    assert.ok(spentIn, both.stdout);
    assert.match(both.stdout, /committed at height \d+/);
    assert.equal((await coin(txid, Number(vout))).status, 404, 'the locked coin is spent');
    const paid = await coin(spentIn, 0);
    assert.deepEqual([paid.body.amount, paid.body.address], ['400000000', recipient]);
    // The fee came from owner 2's wallet, so all of the other 6 coins stay locked.
    const rest = await coin(spentIn, 1);
    assert.deepEqual([rest.body.amount, rest.body.address], ['600000000', contractAddress]);
  });

  it('two owners signing two contract inputs sweep them, the fee taken from the coins', async () => {
    const first = await lock('3');
    const second = await lock('2');
    const recipient = addressOf(keys[0]!);
    const sweep = await utxod([
      'contract',
      'spend',
      '--coin',
      first,
      '--coin',
      second,
      '--sign-key',
      keys[0]!,
      '--sign-key',
      keys[2]!,
      '--to',
      recipient,
      ...FEE_RATE,
      '--wait',
    ]);
    assert.equal(sweep.status, 0, sweep.stderr);
    const txid = /txid: +([0-9a-f]{64})/.exec(sweep.stdout)?.[1];
    assert.ok(txid, sweep.stdout);
    const fee = /fee: +(\S+)/.exec(sweep.stdout)?.[1];
    const out = await coin(txid, 0);
    assert.equal(out.body.address, recipient);
    // 5 coins less the fee, which pays 2 x spendGasLimit (100,000) gas at 1.
    const feeUnits = 500_000_000n - BigInt(out.body.amount);
    assert.ok(feeUnits >= 200_000n && feeUnits < 300_000n, `fee ${feeUnits} (${fee})`);
    assert.equal((await coin(txid, 1)).status, 404, 'a sweep has one output');
  });

  it('refuses what it can tell is wrong before signing', async () => {
    const notLocked = await utxod([
      'send',
      '--from-key',
      keys[0]!,
      '--to',
      addressOf(keys[1]!),
      '--amount',
      '1',
      ...FEE_RATE,
      '--wait',
      '-q',
    ]);
    assert.equal(notLocked.status, 0, notLocked.stderr);
    const plain = await utxod([
      'contract',
      'spend',
      '--coin',
      `${notLocked.stdout.trim()}:0`,
      '--to',
      contractAddress,
    ]);
    assert.match(plain.stderr, /^utxod: error \[USAGE\]: --coin \S+ is not locked to a contract/);
    const badRef = await utxod(['contract', 'spend', '--coin', 'abc:0', '--to', contractAddress]);
    assert.match(badRef.stderr, /--coin must be TXID:VOUT/);
    const missing = await utxod([
      'contract',
      'spend',
      '--coin',
      `${'ab'.repeat(32)}:0`,
      '--to',
      contractAddress,
    ]);
    assert.match(missing.stderr, /no unspent coin there/);
    const tooManySigners = await utxod([
      'contract',
      'spend',
      '--coin',
      `${'ab'.repeat(32)}:0`,
      '--sign-key',
      keys[0]!,
      '--sign-key',
      keys[1]!,
      '--to',
      contractAddress,
    ]);
    assert.match(tooManySigners.stderr, /2 --sign-key for 1 --coin/);
  });
});
