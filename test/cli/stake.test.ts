/**
 * `utxod stake` against a real devnet node process, through the cookie (no
 * --rpc, no token: the operator runs it beside the node, like `utxod send`).
 *
 * Until the chain runs the staking rules, the node refuses payload types 1-5
 * with TX_UNKNOWN_PAYLOAD; each step asserts exactly that refusal then. Once
 * the node admits staking transactions (the first bond is not refused as an
 * unknown payload), the same steps assert acceptance and the typed STAKE_*
 * refusals instead — no step is skipped in either world.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RpcClient } from '../../src/client/rpc-client.ts';
import { NodeProcess, runUtxod, runUtxodAsync } from '../support/node-process.ts';

const datadir = mkdtempSync(join(tmpdir(), 'utxod-stake-'));
const operatorFile = join(datadir, 'operator.json');
const consensusFile = join(datadir, 'consensus.json');
const nextConsensusFile = join(datadir, 'consensus-2.json');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `utxod stake ...` without blocking the event loop (the node runs in this test). */
function stake(args: string[]): Promise<Run> {
  return runUtxodAsync(['stake', ...args, '--datadir', datadir], {
    UTXOD_TOKEN: '',
    UTXOD_RPC: '',
  });
}

/** Exactly one error line, no stack: what a user sees for a mistake or a refusal. */
function errorLine(run: Run): string {
  assert.notEqual(run.status, 0, `expected a failure, got:\n${run.stdout}`);
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, run.stderr);
  assert.doesNotMatch(run.stderr, /^\s+at /m);
  return lines[0]!;
}

function publicKeyOf(run: { stdout: string }): string {
  const hex = /public key:\s+([0-9a-f]{66})/.exec(run.stdout)?.[1];
  assert.ok(hex, run.stdout);
  return hex;
}

const unknownPayload = (type: number) => `utxod: error [TX_UNKNOWN_PAYLOAD]: payload type ${type}`;

describe('utxod stake', () => {
  let node: NodeProcess;
  let url: string;
  let nextConsensusKey: string;

  before(async () => {
    assert.equal(runUtxod(['init', '--datadir', datadir]).status, 0);
    // Index 0 of the devnet mnemonic is funded in the devnet genesis.
    const derived = runUtxod(['keys', 'derive', '--index', '0', '--out', operatorFile]);
    assert.equal(derived.status, 0, derived.stderr);
    assert.equal(runUtxod(['keys', 'new', '--out', consensusFile]).status, 0);
    const next = runUtxod(['keys', 'new', '--out', nextConsensusFile]);
    assert.equal(next.status, 0, next.stderr);
    nextConsensusKey = publicKeyOf(next);
    node = NodeProcess.start(datadir, ['--block-interval', '200']);
    url = await node.url();
  });
  after(async () => {
    await node?.stop('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('refuses bad flags in one line naming the flag, before signing anything', async () => {
    const base = ['--from-key', operatorFile];
    assert.match(
      errorLine(
        await stake(['bond', ...base, '--amount', 'abc', '--validator-key', consensusFile]),
      ),
      /^utxod: error \[AMOUNT_INVALID\]: --amount /,
    );
    assert.match(
      errorLine(await stake(['bond', ...base, '--amount', '1'])),
      /^utxod: error \[USAGE\]: give the validator’s consensus key as --consensus-key PUBHEX or --validator-key FILE/,
    );
    assert.match(
      errorLine(
        await stake([
          'bond',
          ...base,
          '--amount',
          '1',
          '--consensus-key',
          nextConsensusKey,
          '--validator-key',
          consensusFile,
        ]),
      ),
      /--consensus-key PUBHEX or --validator-key FILE \(one of them\)/,
    );
    assert.match(
      errorLine(await stake(['rotate-key', ...base, '--consensus-key', `04${'ab'.repeat(32)}`])),
      /^utxod: error \[USAGE\]: --consensus-key must be a 33-byte compressed secp256k1 public key/,
    );
    assert.match(
      errorLine(await stake(['unbond', ...base, '--amount', '1', '--fee-rate', 'fast'])),
      /^utxod: error \[USAGE\]: --fee-rate must be a whole number/,
    );
    assert.match(
      errorLine(await stake(['withdraw', ...base, '--height', 'x'])),
      /^utxod: error \[USAGE\]: --height must be a block height, got "x"/,
    );
  });

  it('bonds, unbonds, rotates the key, unjails and withdraws as far as the node allows', async () => {
    const base = ['--from-key', operatorFile, '--fee-rate', '2000'];
    // Power 1 against the devnet validator's 10: a new validator that no
    // node runs must stay below a third of the power, or the chain would halt.
    const bond = await stake([
      'bond',
      ...base,
      '--amount',
      '1.5',
      '--validator-key',
      consensusFile,
      '--wait',
    ]);
    const staking = !bond.stderr.includes('TX_UNKNOWN_PAYLOAD');
    const committedAt = (run: Run): number => {
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^txid:\s+[0-9a-f]{64}$/m);
      const height = /committed at height (\d+)/.exec(run.stdout)?.[1];
      assert.ok(height, run.stdout);
      return Number(height);
    };
    const unbond = await stake(['unbond', ...base, '--amount', '0.5', '--wait']);
    const rotate = await stake([
      'rotate-key',
      ...base,
      '--consensus-key',
      nextConsensusKey,
      '--wait',
    ]);
    const rotateAgain = await stake(['rotate-key', ...base, '--validator-key', consensusFile]);
    const unjail = await stake(['unjail', ...base]);
    if (!staking) {
      // Today: the node's transaction rules know only the memo payload.
      assert.equal(errorLine(bond), unknownPayload(1));
      assert.equal(errorLine(unbond), unknownPayload(2));
      assert.equal(errorLine(rotate), unknownPayload(3));
      assert.equal(errorLine(rotateAgain), unknownPayload(3));
      assert.equal(errorLine(unjail), unknownPayload(4));
    } else {
      committedAt(bond);
      assert.match(bond.stdout, /action:\s+bond 1\.5 coins, consensus key [0-9a-f]{66}/);
      committedAt(unbond);
      committedAt(rotate);
      assert.match(errorLine(rotateAgain), /^utxod: error \[STAKE_ROTATION_TOO_SOON\]/);
      assert.match(errorLine(unjail), /^utxod: error \[STAKE_NOT_JAILED\]/);
    }
    // Withdraw reads the entry's amount from the node's staking view first.
    const hasRegistry = (await new RpcClient({ url }).validators()).signedBlocksWindow !== null;
    const height = staking ? String(committedAt(unbond)) : '5';
    const withdraw = await stake(['withdraw', ...base, '--height', height]);
    if (!hasRegistry)
      assert.match(
        errorLine(withdraw),
        new RegExp(
          `^utxod: error \\[USAGE\\]: the node at \\S+ keeps no staking state, so the amount unbonded at --height ${height} cannot be looked up$`,
        ),
      );
    else if (staking)
      // Unbonded moments ago: the unbonding period has not passed.
      assert.match(errorLine(withdraw), /^utxod: error \[STAKE_UNBONDING_NOT_MATURE\]/);
    else assert.match(errorLine(withdraw), /--from-key is not the operator of a validator/);
  });

  it('serves the running engine’s consensus state and the set publicly', async () => {
    const client = new RpcClient({ url }); // no token
    const set = await client.validators();
    // The first test bonded a validator that no node runs (power 1 of 11): it
    // joined the set two blocks after its bond; the devnet validator is the other.
    assert.equal(set.validators.length, 2);
    assert.ok(set.validators.every((v) => v.status === 'active'));
    const c = await client.consensus();
    assert.ok(c.height >= 1 && c.height <= set.height + 1, JSON.stringify(c));
    assert.ok(
      set.validators.some((v) => v.publicKey === c.proposer?.publicKey),
      'the round’s proposer is in the set',
    );
    assert.ok(c.lastRoundChange !== null && c.lastRoundChange.height === c.height);
    assert.ok(
      c.lastRoundChange.at !== null && Math.abs(c.lastRoundChange.at - Date.now()) < 600_000,
    );
    // Only the devnet validator runs a node: one vote at most per round and type.
    assert.ok(c.rounds.every((r) => r.round >= 0 && r.prevotes <= 1 && r.precommits <= 1));
  });
});
