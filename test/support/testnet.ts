/** A `utxod testnet init` network for process tests: its layout and the helpers they share. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson, runUtxod } from './node-process.ts';

export interface TestnetNodeLayout {
  readonly name: string;
  readonly datadir: string;
  readonly validatorKey: string;
  readonly rpcUrl: string;
  readonly p2pAddr: string;
  readonly metricsUrl: string;
}

/**
 * Writes N validator directories under `out`. Ports are fixed by the layout
 * (each node dials the others' p2p ports); a base chosen per run keeps two
 * runs on one machine apart.
 */
export function initTestnet(
  out: string,
  opts: {
    validators: number;
    blockIntervalMs: number;
    /** Genesis staking parameters to override in every node's genesis.json (before any start). */
    staking?: Readonly<Record<string, number | string>>;
  },
): TestnetNodeLayout[] {
  const basePort = 30_000 + 100 * Math.floor(Math.random() * 300);
  const init = runUtxod([
    'testnet',
    'init',
    '--validators',
    String(opts.validators),
    '--out',
    out,
    '--base-port',
    String(basePort),
    '--block-interval',
    String(opts.blockIntervalMs),
  ]);
  if (init.status !== 0) throw new Error(`utxod testnet init failed: ${init.stderr}`);
  const nodes = (
    JSON.parse(readFileSync(join(out, 'testnet.json'), 'utf8')) as { nodes: TestnetNodeLayout[] }
  ).nodes;
  if (opts.staking !== undefined) {
    for (const node of nodes) {
      const file = join(node.datadir, 'genesis.json');
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {
        params: { staking?: Record<string, unknown> };
      };
      doc.params.staking = { ...doc.params.staking, ...opts.staking };
      writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    }
  }
  return nodes;
}

export async function tipHeight(rpcUrl: string): Promise<number> {
  return (await getJson<{ height: number }>(`${rpcUrl}/api/v1/chain/tip`)).body.height;
}
