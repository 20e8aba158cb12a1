import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, print } from '../shared.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const DEFAULT_DIR = 'testnet';

interface InitFlags {
  validators: string;
  out: string;
  basePort: string;
  blockInterval: string;
}

export function registerTestnet(program: Command): void {
  const testnet = program
    .command('testnet')
    .description('a network of several validators on this machine, for development');
  testnet
    .command('init')
    .description(
      'write N validator data directories sharing one genesis, each peered with the others',
    )
    .option('--validators <n>', 'number of validators', '4')
    .option('--out <dir>', 'directory for the node directories and testnet.json', DEFAULT_DIR)
    .option(
      '--base-port <port>',
      'node i listens on base+10i (RPC), +1 (p2p), +2 (metrics)',
      '27000',
    )
    .option('--block-interval <ms>', 'milliseconds between blocks', '1000')
    .action(async (flags: InitFlags) => {
      const layout = await initFromFlags(flags);
      printLayout(layout);
      print(`start it with: utxod testnet start ${flags.out}`);
    });
  testnet
    .command('start')
    .description(
      'run every node of a testnet (created with `testnet init`; --init creates it first)',
    )
    .argument('[dir]', 'the testnet directory', DEFAULT_DIR)
    .option('--init', 'create a four-validator testnet in [dir] first if it holds none')
    .action(async (dir: string, flags: { init?: boolean }) => {
      const { readTestnet, TESTNET_MANIFEST } = await import('../../node/testnet.ts');
      if (flags.init === true && !existsSync(join(dir, TESTNET_MANIFEST))) {
        await initFromFlags({
          validators: '4',
          out: dir,
          basePort: '27000',
          blockInterval: '1000',
        });
      }
      const layout = readTestnet(dir);
      printLayout(layout);
      await runNodes(layout.nodes.map((n) => ({ name: n.name, datadir: n.datadir })));
    });
}

async function initFromFlags(flags: InitFlags) {
  const { initTestnet } = await import('../../node/testnet.ts');
  const number = (text: string, what: string) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new CliError('USAGE', `${what} ${text}: a whole number`);
    return n;
  };
  return initTestnet({
    out: flags.out,
    validators: number(flags.validators, '--validators'),
    basePort: number(flags.basePort, '--base-port'),
    blockIntervalMs: number(flags.blockInterval, '--block-interval'),
  });
}

function printLayout(layout: {
  chainId: string;
  genesisHash: string;
  nodes: readonly { name: string; datadir: string; rpcUrl: string; metricsUrl: string }[];
}): void {
  print(`testnet ${layout.chainId}, genesis ${layout.genesisHash}`);
  for (const n of layout.nodes) {
    print(`  ${n.name}  rpc ${n.rpcUrl}  metrics ${n.metricsUrl}  datadir ${n.datadir}`);
  }
}

/**
 * Runs one `utxod start` per node, each logging to node.log in its data
 * directory, until Ctrl-C (or SIGTERM), which stops them all cleanly. A node
 * that exits on its own is reported; the others keep running.
 */
async function runNodes(nodes: readonly { name: string; datadir: string }[]): Promise<void> {
  // The layout (ports, peers, data directory) is the testnet's own: UTXOD_*
  // settings in this shell, meant for a single node, must not override it.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('UTXOD_')),
  );
  const children = new Map<string, ChildProcess>();
  const exited: Promise<void>[] = [];
  for (const node of nodes) {
    const log = createWriteStream(join(node.datadir, 'node.log'), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [MAIN, 'start', '--datadir', node.datadir, '--log-format', 'json'],
      // Each node in a process group of its own: a terminal's Ctrl-C reaches
      // it once, forwarded from here, not twice (a second signal tells a node
      // to stop without a clean shutdown).
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.set(node.name, child);
    exited.push(
      new Promise((done) => {
        child.once('exit', (code, signal) => {
          children.delete(node.name);
          print(
            `${node.name} exited (${signal ?? `code ${code}`}); log in ${join(node.datadir, 'node.log')}`,
          );
          done();
        });
      }),
    );
  }
  print(`running ${nodes.length} nodes; logs in <datadir>/node.log; Ctrl-C stops them`);
  const stop = () => {
    for (const child of children.values()) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(exited);
}
