/**
 * A local network of N validators on one machine: N data directories that
 * share one genesis naming all N keys, each with its own ports on 127.0.0.1
 * and every other node as a bootstrap peer. `utxod testnet init` writes it,
 * `utxod testnet start` runs it (src/cli/commands/testnet.ts).
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildGenesisBlock, genesisFromTemplate, serializeGenesis } from '../chain/index.ts';
import { CONFIG_FILE, defaultConfigFile } from '../config/index.ts';
import { ValidatorSet } from '../consensus/index.ts';
import { createKeyFile } from '../crypto/node.ts';
import { identityPath, peerIdentity } from '../p2p/index.ts';
import { toHex, UtxodError } from '../util/index.ts';
import { writeFileAtomicSync } from '../util/node.ts';
import { DEVNET_TEMPLATE, dataPaths } from './datadir.ts';

export const TESTNET_MANIFEST = 'testnet.json';
export const MAX_TESTNET_VALIDATORS = 32;
/** Each node takes three ports from base + 10 * index: RPC, p2p, metrics. */
const PORTS_PER_NODE = 10;
const TESTNET_CHAIN_ID = 'utxod-localnet';
const VALIDATOR_POWER = 10n;

export class TestnetError extends UtxodError<'TESTNET_USAGE' | 'TESTNET_MANIFEST'> {}

export interface TestnetNode {
  readonly name: string;
  readonly datadir: string;
  readonly validatorKey: string;
  readonly peerId: string;
  readonly rpcUrl: string;
  readonly p2pAddr: string;
  readonly metricsUrl: string;
}

export interface TestnetLayout {
  readonly chainId: string;
  readonly genesisHash: string;
  readonly nodes: readonly TestnetNode[];
}

export interface TestnetInitOptions {
  readonly out: string;
  readonly validators: number;
  /** First port; node i uses base + 10i (RPC), +1 (p2p), +2 (metrics). */
  readonly basePort: number;
  readonly blockIntervalMs: number;
  readonly now?: number;
}

/** Writes N ready data directories and `testnet.json` (what `testnet start` runs). */
export async function initTestnet(opts: TestnetInitOptions): Promise<TestnetLayout> {
  const { validators: n, basePort } = opts;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_TESTNET_VALIDATORS) {
    throw new TestnetError(
      'TESTNET_USAGE',
      `--validators ${n}: between 1 and ${MAX_TESTNET_VALIDATORS}`,
    );
  }
  const lastPort = basePort + PORTS_PER_NODE * (n - 1) + 2;
  if (!Number.isSafeInteger(basePort) || basePort < 1024 || lastPort > 65_535) {
    throw new TestnetError(
      'TESTNET_USAGE',
      `--base-port ${basePort}: ${n} nodes need ports ${basePort}..${lastPort} within 1024..65535`,
    );
  }
  const out = resolve(opts.out);
  if (existsSync(join(out, TESTNET_MANIFEST))) {
    throw new TestnetError(
      'TESTNET_USAGE',
      `${out} already holds a testnet: start it with \`utxod testnet start ${opts.out}\``,
    );
  }
  const members: Array<{ name: string; datadir: string; publicKey: Uint8Array; peerId: string }> =
    [];
  for (let i = 0; i < n; i++) {
    const name = `node${i}`;
    const datadir = join(out, name);
    const paths = dataPaths(datadir);
    if (existsSync(paths.genesis)) {
      throw new TestnetError('TESTNET_USAGE', `${datadir} is already initialised`);
    }
    mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
    const key = createKeyFile(paths.validatorKey);
    const peerId = await peerIdentity(identityPath(datadir));
    members.push({ name, datadir, publicKey: key.publicKey, peerId });
  }
  const template = genesisFromTemplate(
    readFileSync(DEVNET_TEMPLATE, 'utf8'),
    members[0]!.publicKey,
    opts.now ?? Date.now(),
  );
  const genesis = {
    ...template,
    chainId: TESTNET_CHAIN_ID,
    validators: new ValidatorSet(
      members.map((m) => ({ publicKey: m.publicKey, power: VALIDATOR_POWER })),
    ),
  };
  const genesisText = serializeGenesis(genesis);
  const ports = (i: number) => ({
    rpc: basePort + PORTS_PER_NODE * i,
    p2p: basePort + PORTS_PER_NODE * i + 1,
    metrics: basePort + PORTS_PER_NODE * i + 2,
  });
  const p2pAddr = (i: number) => `/ip4/127.0.0.1/tcp/${ports(i).p2p}/p2p/${members[i]!.peerId}`;
  const nodes = members.map((m, i): TestnetNode => {
    const paths = dataPaths(m.datadir);
    writeFileAtomicSync(paths.genesis, genesisText, 0o644);
    const config = JSON.parse(defaultConfigFile()) as Record<string, unknown>;
    Object.assign(config, {
      blockIntervalMs: opts.blockIntervalMs,
      rpcHost: '127.0.0.1',
      rpcPort: ports(i).rpc,
      metricsHost: '127.0.0.1',
      metricsPort: ports(i).metrics,
      p2pHost: '127.0.0.1',
      p2pPort: ports(i).p2p,
      bootstrap: members.flatMap((_, j) => (j === i ? [] : [p2pAddr(j)])),
      // N nodes share this machine's cores: one verification thread each.
      verifyWorkers: 1,
    });
    writeFileSync(join(m.datadir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, {
      mode: 0o644,
    });
    return {
      name: m.name,
      datadir: m.datadir,
      validatorKey: toHex(m.publicKey),
      peerId: m.peerId,
      rpcUrl: `http://127.0.0.1:${ports(i).rpc}`,
      p2pAddr: p2pAddr(i),
      metricsUrl: `http://127.0.0.1:${ports(i).metrics}/metrics`,
    };
  });
  const layout: TestnetLayout = {
    chainId: genesis.chainId,
    genesisHash: toHex((await buildGenesisBlock(genesis)).block.hash),
    nodes,
  };
  writeFileAtomicSync(join(out, TESTNET_MANIFEST), `${JSON.stringify(layout, null, 2)}\n`, 0o644);
  return layout;
}

/** Reads the `testnet.json` that `initTestnet` wrote. */
export function readTestnet(dir: string): TestnetLayout {
  const file = join(resolve(dir), TESTNET_MANIFEST);
  if (!existsSync(file)) {
    throw new TestnetError(
      'TESTNET_MANIFEST',
      `${dir} holds no testnet (no ${TESTNET_MANIFEST}): create one with \`utxod testnet init --out ${dir}\``,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TestnetError('TESTNET_MANIFEST', `${file} is not JSON`, {}, { cause: error });
  }
  const nodes = (doc as { nodes?: unknown }).nodes;
  if (
    !Array.isArray(nodes) ||
    nodes.length === 0 ||
    nodes.some((n) => typeof n?.datadir !== 'string' || typeof n?.rpcUrl !== 'string')
  ) {
    throw new TestnetError(
      'TESTNET_MANIFEST',
      `${file}: "nodes" must list each node's datadir and rpcUrl`,
    );
  }
  return doc as TestnetLayout;
}
