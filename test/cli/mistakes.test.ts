/**
 * The careless user, offline: every mistake of issue #12 that needs no running
 * node, each checked on its exact message (one line, the flag to change, no
 * stack trace). The ones that need a node are in readme.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LAUNCHER, oneLine, userEnv, utxod } from './helpers.ts';

describe('utxod, used carelessly', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'utxod-mistakes-'));
    env = userEnv(home);
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('a missing data directory gets one message from every command', () => {
    const missing = join(home, 'no-such-dir');
    const expected = `utxod: error [DATADIR_MISSING]: data directory ${missing} does not exist: run \`utxod init --datadir ${missing}\` (or \`utxod start\`) first, or pass --datadir DIR of an existing node`;
    for (const args of [
      ['verify-chain'],
      ['rollback', '1'],
      ['audit', 'verify'],
      ['peers', 'bans'],
      ['peers', 'id'],
      ['peers', 'list'],
      ['token', 'issue', '--role', 'reader'],
      ['keys', 'show'],
      ['status'],
      ['balance', 'dutx1q4lhj02afmyqdf3qtdp9wyfq4dlm5nl8hlqtjc42wzq5w4vr40wvqyhgvxq'],
    ]) {
      const run = utxod(env, [...args, '--datadir', missing]);
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(oneLine(run), expected, args.join(' '));
    }
    assert.equal(existsSync(missing), false, 'nothing was created');
  });

  test('init --genesis MISSING says so and leaves nothing behind', () => {
    const datadir = join(home, 'joiner');
    const run = utxod(env, ['init', '--datadir', datadir, '--genesis', join(home, 'nope.json')]);
    assert.equal(run.code, 1);
    assert.equal(
      oneLine(run),
      `utxod: error [USAGE]: --genesis ${join(home, 'nope.json')} does not exist: pass the genesis.json of the network to join (a devnet's is in its producer's data directory)`,
    );
    assert.equal(existsSync(datadir), false);
  });

  test('init --genesis with a file that is not a genesis leaves nothing behind', () => {
    const datadir = join(home, 'joiner-2');
    const run = utxod(env, ['init', '--datadir', datadir, '--genesis', LAUNCHER]);
    assert.equal(run.code, 1);
    assert.match(
      oneLine(run),
      /^utxod: error \[USAGE\]: --genesis \S+ is not a usable genesis file: /,
    );
    assert.equal(existsSync(datadir), false);
  });

  test('--rpc and UTXOD_RPC that are not URLs are named', () => {
    const flag = utxod(env, ['status', '--rpc', 'notaurl']);
    assert.equal(flag.code, 1);
    assert.equal(
      oneLine(flag),
      `utxod: error [USAGE]: --rpc must be a node's http(s) URL like http://127.0.0.1:8645, got "notaurl"`,
    );
    const fromEnv = utxod({ ...env, UTXOD_RPC: 'localhost:8645' }, ['status']);
    assert.equal(
      oneLine(fromEnv),
      `utxod: error [USAGE]: UTXOD_RPC must be a node's http(s) URL like http://127.0.0.1:8645, got "localhost:8645"`,
    );
  });

  test('amounts that are not amounts say what is wrong, before anything is asked of a node', () => {
    const send = (amount: string) =>
      utxod(env, [
        'send',
        '--from-key',
        join(home, 'alice.json'),
        '--to',
        'dutx1qmhgumd8rdxfgsmmug8jhssvv82zpa7wp5tyepz83slxfukzwwqwqcry4hn',
        '--amount',
        amount,
        '--rpc',
        'http://127.0.0.1:9',
      ]);
    assert.equal(
      oneLine(send('abc')),
      'utxod: error [AMOUNT_INVALID]: --amount "abc" is not an amount of coins: write digits with an optional decimal point, like 12.5 or 0.001',
    );
    assert.equal(
      oneLine(send('0.000000001')),
      'utxod: error [AMOUNT_INVALID]: --amount "0.000000001" has 9 decimal places: coins have at most 8 (the smallest amount is 0.00000001)',
    );
    assert.equal(
      oneLine(send('0')),
      'utxod: error [AMOUNT_INVALID]: --amount "0" is zero: send more than 0 coins',
    );
    assert.equal(
      oneLine(send('21000001')),
      'utxod: error [AMOUNT_INVALID]: --amount "21000001" is more than the 21000000 coins that can ever exist',
    );
  });

  test('no node at the address: says how to start one or where to point', () => {
    const run = utxod(env, ['status', '--rpc', 'http://127.0.0.1:9']);
    assert.equal(run.code, 1);
    assert.equal(
      oneLine(run),
      'utxod: error [NODE_UNREACHABLE]: no node answers at http://127.0.0.1:9: start one with `utxod start`, or pass --rpc URL (or --datadir DIR of the running node)',
    );
  });

  test('rollback on a validator warns and asks for --force', () => {
    const datadir = join(home, 'validator');
    assert.equal(utxod(env, ['init', '--datadir', datadir]).code, 0);
    const run = utxod(env, ['rollback', '1', '--datadir', datadir]);
    assert.equal(run.code, 1);
    assert.equal(
      oneLine(run),
      `utxod: error [CONFIRM]: ${datadir} is a validator: after a rollback it will not sign the undone heights again, so it stops producing blocks until the network passes them (on a private devnet add --reset-signer to let it sign them anew). Pass --force to roll back anyway.`,
    );
    const forced = utxod(env, ['rollback', '1', '--force', '--datadir', datadir]);
    assert.equal(
      oneLine(forced),
      'utxod: error [USAGE]: cannot undo 1 blocks: the tip is at height 0',
    );
  });

  test('a port in use names --rpc-port or --p2p-port', async () => {
    const datadir = join(home, 'ports');
    assert.equal(utxod(env, ['init', '--datadir', datadir]).code, 0);
    const held = await listen('127.0.0.1');
    const heldP2p = await listen('0.0.0.0');
    try {
      const rpcPort = port(held);
      const rpc = utxod(env, [
        'start',
        '--datadir',
        datadir,
        '--rpc-port',
        String(rpcPort),
        '--p2p-port',
        '0',
        '--metrics-port',
        '0',
        '--log-level',
        'warn',
      ]);
      assert.equal(rpc.code, 1);
      assert.equal(
        oneLine(rpc),
        `utxod: error [PORT_IN_USE]: the API port 127.0.0.1:${rpcPort} is already in use (another utxod?): pass --rpc-port N (0 picks a free port) or set "rpcPort" in utxod.json`,
      );
      const p2pPort = port(heldP2p);
      const p2p = utxod(env, [
        'start',
        '--datadir',
        datadir,
        '--rpc-port',
        '0',
        '--p2p-port',
        String(p2pPort),
        '--metrics-port',
        '0',
        '--log-level',
        'warn',
      ]);
      assert.equal(p2p.code, 1);
      assert.equal(
        oneLine(p2p),
        `utxod: error [PORT_IN_USE]: the p2p port 0.0.0.0:${p2pPort} is already in use (another utxod?): pass --p2p-port N (0 picks a free port) or set "p2pPort" in utxod.json`,
      );
    } finally {
      held.close();
      heldP2p.close();
    }
  });

  test('the launcher says what Node it needs when it finds none', (t) => {
    const old = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
    const major = Number(/^v(\d+)/.exec(old.stdout ?? '')?.[1] ?? Number.NaN);
    if (!(major < 22)) {
      t.skip('this machine has no Node older than 22.18 at /usr/bin/node');
      return;
    }
    // A copy of the launcher with no node_modules next to it: no Node 24 to hand over to.
    const bare = join(home, 'bare');
    mkdirSync(join(bare, 'bin'), { recursive: true });
    copyFileSync(LAUNCHER, join(bare, 'bin', 'utxod.js'));
    const run = spawnSync('/usr/bin/node', [join(bare, 'bin', 'utxod.js'), 'status'], {
      encoding: 'utf8',
      env: { ...env, UTXOD_NODE: '' },
    });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /^utxod: needs Node\.js 22\.18 or newer \(24 recommended\); this is Node 20\.[\d.]+ \(\/usr\/bin\/node\)\.\n {2}Run `npm install` in \S+ \(it installs Node 24 into node_modules\),\n/,
    );
    // The real one hands over to the Node 24 that the set-up installed.
    const handed = spawnSync('/usr/bin/node', [LAUNCHER, '--version'], { encoding: 'utf8', env });
    assert.equal(handed.status, 0, handed.stderr);
    assert.equal(handed.stdout, '0.1.0\n');
  });
});

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

function port(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
