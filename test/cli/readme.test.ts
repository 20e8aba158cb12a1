/**
 * The README's commands, as written, against a real devnet: every ```sh block
 * in order (the set-up and development blocks, `npm ...` and `export PATH`,
 * aside: the test is that set-up), in a fresh HOME with `bin` on PATH and the
 * machine's own node behind it. `utxod start` lines run in the background the
 * way the README's "second terminal" implies; the "stopped node" section stops
 * them first. The first node's ports come from UTXOD_*_PORT=0 so that the test
 * never collides with another node on this machine; the second node's are the
 * README's own. Then the node-dependent careless-user cases run against it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { oneLine, ROOT, type Run, userEnv, utxod } from './helpers.ts';

interface Block {
  readonly heading: string;
  readonly lines: readonly string[];
}

/** The ```sh blocks of the README under their `## ` heading, minus set-up and development lines. */
function readmeBlocks(): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  let current: string[] | null = null;
  for (const line of readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')) {
    if (current === null && line.startsWith('## ')) heading = line.slice(3);
    else if (current === null && line === '```sh') current = [];
    else if (current !== null && line === '```') {
      const lines = current.filter((l) => !/^(npm |export PATH=)/.test(l) && l.trim() !== '');
      if (lines.length > 0) blocks.push({ heading, lines });
      current = null;
    } else if (current !== null) current.push(line);
  }
  return blocks;
}

interface Daemon {
  readonly line: string;
  readonly child: ChildProcess;
  readonly logs: Array<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
}

describe('the README, as written', () => {
  const blocks = readmeBlocks();
  let home: string;
  let env: NodeJS.ProcessEnv;
  const daemons: Daemon[] = [];
  const outputs = new Map<string, Run>();

  /** Runs a block's lines in one bash (variables carry over), `utxod start` lines in the background. */
  const ran = new Set<Block>();
  async function runBlock(heading: string, index = 0): Promise<Run[]> {
    const block = blocks.filter((b) => b.heading === heading)[index];
    assert.ok(block, `README has a sh block #${index + 1} under "${heading}"`);
    ran.add(block);
    const runs: Run[] = [];
    const script: string[] = ['set -euo pipefail'];
    const flush = () => {
      if (script.length === 1) return;
      const run = spawnSync('bash', ['-c', script.join('\n')], {
        cwd: home,
        env,
        encoding: 'utf8',
        timeout: 300_000,
      });
      const result = { code: run.status, stdout: run.stdout, stderr: run.stderr };
      assert.equal(result.code, 0, `${script.slice(1).join('\n')}\n${result.stderr}`);
      runs.push(result);
      outputs.set(script.slice(1).join('\n'), result);
      script.length = 1;
    };
    for (const line of block.lines) {
      if (/^utxod (testnet )?start\b/.test(line)) {
        flush();
        await startDaemon(line);
      } else script.push(line);
    }
    flush();
    return runs;
  }

  async function startDaemon(line: string): Promise<void> {
    const child = spawn('bash', ['-c', `exec ${line.replace(/\s+#.*$/, '')}`], {
      cwd: home,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Array<Record<string, unknown>> = [];
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        logs.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        logs.push({ msg: text, notJson: true });
      }
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    daemons.push({ line, child, logs, exited });
    // A testnet is up when its first node is.
    const testnet = /^utxod testnet start (\S+)/.exec(line)?.[1];
    const datadir =
      testnet !== undefined
        ? join(testnet.replace('~', home), 'node0')
        : (/--datadir (\S+)/.exec(line)?.[1]?.replace('~', home) ?? join(home, '.utxod'));
    // Up when `utxod status` for its data directory answers.
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) assert.fail(`${line} exited: ${stderr}`);
      if (
        existsSync(join(datadir, 'api.cookie')) &&
        utxod(env, ['status', '--datadir', datadir]).code === 0
      )
        return;
      if (Date.now() > deadline) assert.fail(`${line} did not come up: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function stopDaemons(): Promise<void> {
    for (const daemon of daemons.splice(0)) {
      if (daemon.child.exitCode !== null) continue;
      daemon.child.kill('SIGINT');
      const code = await Promise.race([
        daemon.exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000)),
      ]);
      assert.equal(code, 0, `${daemon.line} stopped cleanly on Ctrl-C`);
    }
  }

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'utxod-readme-'));
    env = userEnv(home, {
      UTXOD_RPC_PORT: '0',
      UTXOD_METRICS_PORT: '0',
      UTXOD_P2P_PORT: '0',
      UTXOD_VERIFY_WORKERS: '1',
    });
  });

  after(async () => {
    for (const daemon of daemons) daemon.child.kill('SIGKILL');
    // The launcher runs the node in its own process group: end what it started too.
    const testnetNodes = [0, 1, 2, 3].map((i) => join('testnet', `node${i}`));
    for (const dir of ['.utxod', '.utxod-2', ...testnetNodes]) {
      const cookie = join(home, dir, 'api.cookie');
      if (!existsSync(cookie)) continue;
      const { pid } = JSON.parse(readFileSync(cookie, 'utf8')) as { pid: number };
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  test('a devnet in two commands: init, start, status', async () => {
    const [init] = await runBlock('A devnet in two commands', 0);
    const [status] = await runBlock('A devnet in two commands', 1);
    assert.match(init!.stdout, /^initialised \S+\/\.utxod$/m);
    assert.match(status!.stdout, /^tip: {5}\d+ [0-9a-f]{64}/m);
    assert.match(status!.stdout, /^api: {5}http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(status!.stdout, /^p2p: {5}\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/m);
  });

  test('spending devnet coins: keys, balance, send, tx', async () => {
    const [run] = await runBlock('Spending devnet coins');
    const out = run!.stdout;
    assert.match(
      out,
      /^address: {4}dutx1q4lhj02afmyqdf3qtdp9wyfq4dlm5nl8hlqtjc42wzq5w4vr40wvqyhgvxq$/m,
    );
    assert.match(out, /^amount: 12\.5 to dutx1qmhgumd8/m);
    assert.match(out, /^committed at height \d+$/m);
    assert.match(out, /^status: {2}committed at height \d+/m);
    assert.match(out, /^output 0: 0\.5 to dutx1qmhgumd8/m);
    // Bob's premine plus both payments.
    assert.match(out, /^confirmed: {3}1000013 in 3 outputs$/m);
  });

  test('tokens: issue one and pass it', async () => {
    const [run] = await runBlock('Tokens for remote nodes');
    assert.match(run!.stdout, /^[\w-]+\.[\w-]+\.[\w-]+$/m);
    assert.match(run!.stdout, /^tip: /m);
  });

  test('careless sends against the running node', () => {
    const send = (amount: string) =>
      utxod(
        env,
        [
          'send',
          '--from-key',
          'alice.json',
          '--to',
          'dutx1qmhgumd8rdxfgsmmug8jhssvv82zpa7wp5tyepz83slxfukzwwqwqcry4hn',
          '--amount',
          amount,
          '--fee-rate',
          '1000',
        ],
        home,
      );
    assert.equal(
      oneLine(send('0.00000001')),
      'utxod: error [AMOUNT_INVALID]: --amount 0.00000001 is below the dust limit of 0.00000399 coins at 1000 per 1000 bytes: spending it would cost more than a third of its value',
    );
    assert.match(
      oneLine(send('2000000')),
      /^utxod: error \[INSUFFICIENT_FUNDS\]: insufficient funds: dutx1q4lhj02afmyqdf3qtdp9wyfq4dlm5nl8hlqtjc42wzq5w4vr40wvqyhgvxq can spend 999986\.\d+ coins, and sending 2000000 coins needs 2000000 plus a fee of 0\.00000\d+ \(/,
    );
    // A node this user cannot read the data directory of (here: another one) wants a token.
    const balance = utxod({ ...env }, [
      'balance',
      'dutx1q4lhj02afmyqdf3qtdp9wyfq4dlm5nl8hlqtjc42wzq5w4vr40wvqyhgvxq',
      '--datadir',
      join(home, 'elsewhere'),
      '--rpc',
      JSON.parse(readFileSync(join(home, '.utxod', 'api.cookie'), 'utf8')).url,
    ]);
    assert.match(
      oneLine(balance),
      /^utxod: error \[AUTH_MISSING\]: the node at http:\/\/127\.0\.0\.1:\d+ needs a token for this\. On the node's machine, run utxod as the user that runs the node, with --datadir DIR of that node \(now \S+elsewhere\); for a remote node pass --token TOKEN or set UTXOD_TOKEN/,
    );
  });

  test('several nodes: a second node joins, syncs and lists its peer', async () => {
    await runBlock('Several nodes', 0);
    const first = JSON.parse(utxod(env, ['status', '--json']).stdout) as {
      tip: { height: number };
    };
    // Caught up: the second node's tip reaches the first's.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const second = utxod(env, ['status', '--json', '--datadir', join(home, '.utxod-2')]);
      const tip = (JSON.parse(second.stdout) as { tip: { height: number } }).tip.height;
      if (tip >= first.tip.height) break;
      assert.ok(Date.now() < deadline, `second node stuck at ${tip} < ${first.tip.height}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const [run] = await runBlock('Several nodes', 1);
    assert.match(run!.stdout, /^syncing: no, peers: 1$/m);
    assert.match(run!.stdout, /^api: {5}http:\/\/127\.0\.0\.1:8655$/m);
    assert.match(run!.stdout, /^12D3KooW\w+ {2}outbound {2}\/ip4\/127\.0\.0\.1\/tcp\/\d+/m);
  });

  test('one info line per committed block on a quiet devnet', async () => {
    const producer = daemons[0]!;
    const committed = () => producer.logs.filter((l) => l['msg'] === 'committed block').length;
    // Enough blocks to judge by: the sections before may have taken less than ten intervals.
    const deadline = Date.now() + 30_000;
    while (committed() < 10 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 250));
    const info = producer.logs.filter((l) => l['level'] === 30);
    const heights = info
      .filter((l) => l['msg'] === 'committed block')
      .map((l) => Number(l['height']));
    assert.ok(heights.length >= 10, `${heights.length} blocks logged`);
    // From the first committed block on, nothing but one line per block (and the peer's arrival).
    const firstBlock = info.findIndex((l) => l['msg'] === 'committed block');
    const after = info.slice(firstBlock);
    assert.ok(
      after.length < 2 * heights.length,
      `${after.length} info lines for ${heights.length} blocks:\n${after
        .filter((l) => l['msg'] !== 'committed block')
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
    );
    const line = info.find((l) => l['msg'] === 'committed block')!;
    for (const key of ['height', 'hash', 'txs', 'durationMs']) assert.ok(key in line, key);
  });

  test('four validators on one machine: init, start, each node commits', async () => {
    await runBlock('Four validators on one machine', 0);
    const [run] = await runBlock('Four validators on one machine', 1);
    assert.match(run!.stdout, /^tip: {5}\d+ [0-9a-f]{64}/m);
    assert.match(run!.stdout, /^api: {5}http:\/\/127\.0\.0\.1:27020$/m);
    // All four commit the same chain.
    const tips = () =>
      [0, 1, 2, 3].map(
        (i) =>
          (
            JSON.parse(
              utxod(env, ['status', '--json', '--datadir', join(home, 'testnet', `node${i}`)])
                .stdout,
            ) as { tip: { height: number } }
          ).tip.height,
      );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const heights = tips();
      if (heights.every((h) => h >= 3)) break;
      assert.ok(Date.now() < deadline, `testnet stuck at ${heights.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  });

  test('checking a stopped node: verify-chain and audit verify', async () => {
    await stopDaemons();
    const [run] = await runBlock('Checking a stopped node');
    assert.match(run!.stdout, /^verified blocks \d+\.\.\d+ /m);
    assert.equal(run!.stdout.match(/^OK$/gm)?.length, 2);
  });

  test('every sh block of the README ran', () => {
    assert.deepEqual(
      blocks.filter((b) => !ran.has(b)).map((b) => b.lines.join('\n')),
      [],
    );
  });
});
