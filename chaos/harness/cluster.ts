/**
 * Real `utxod` processes, one per namespace of a ChaosNetwork: data
 * directories initialised with one shared genesis, each node started inside
 * its namespace on its own address, logs kept in the run folder, and the
 * faults that act on processes (kill -9, pause, resume, restart).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChaosNetwork, NetNode } from './netns.ts';

export const UTXOD_BIN = fileURLToPath(new URL('../../bin/utxod.js', import.meta.url));
const RPC_PORT = 8645;
const METRICS_PORT = 9645;
const P2P_PORT = 8646;

export interface ClusterNode {
  readonly net: NetNode;
  readonly name: string;
  readonly datadir: string;
  readonly logPath: string;
  readonly rpcUrl: string;
  readonly metricsUrl: string;
  readonly isValidator: boolean;
  /** An operator token minted offline from this node's own signing keys. */
  token: string;
  process: ChildProcess | null;
  paused: boolean;
  starts: number;
}

function utxod(args: string[]): string {
  return execFileSync(process.execPath, [UTXOD_BIN, ...args], { encoding: 'utf8' }).trim();
}

export class ChaosCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly logStreams = new Map<string, WriteStream>();
  private readonly bootstrap: string[] = [];

  readonly net: ChaosNetwork;
  readonly dir: string;
  private readonly opts: { blockIntervalMs: number; extraArgs?: readonly string[] };

  constructor(
    net: ChaosNetwork,
    dir: string,
    opts: { blockIntervalMs: number; extraArgs?: readonly string[] },
  ) {
    this.net = net;
    this.dir = dir;
    this.opts = opts;
  }

  /**
   * Node 0 is the devnet validator (its genesis names it); the others join
   * with that genesis as full nodes. Every node bootstraps to every other.
   */
  init(): void {
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    for (const net of this.net.nodes) {
      const name = `node${net.index}`;
      const datadir = join(this.dir, 'data', name);
      const genesis =
        net.index === 0 ? [] : ['--genesis', join(this.nodes[0]!.datadir, 'genesis.json')];
      utxod(['init', '--datadir', datadir, ...genesis]);
      const peerId = utxod(['peers', 'id', '--datadir', datadir]).split('\n').pop() ?? '';
      this.bootstrap.push(`/ip4/${net.address}/tcp/${P2P_PORT}/p2p/${peerId}`);
      this.nodes.push({
        net,
        name,
        datadir,
        logPath: join(this.dir, 'logs', `${name}.log`),
        rpcUrl: `http://${net.address}:${RPC_PORT}`,
        metricsUrl: `http://${net.address}:${METRICS_PORT}`,
        isValidator: net.index === 0,
        token:
          utxod(['token', 'issue', '--datadir', datadir, '--role', 'operator', '--ttl', '6h'])
            .split('\n')
            .pop() ?? '',
        process: null,
        paused: false,
        starts: 0,
      });
    }
  }

  start(index: number): void {
    const node = this.node(index);
    if (node.process !== null) return;
    let log = this.logStreams.get(node.name);
    if (log === undefined) {
      log = createWriteStream(node.logPath, { flags: 'a' });
      this.logStreams.set(node.name, log);
    }
    const address = node.net.address;
    const peers = this.bootstrap.filter((_, i) => i !== index);
    const args = [
      UTXOD_BIN,
      'start',
      '--datadir',
      node.datadir,
      '--rpc-host',
      address,
      '--rpc-port',
      String(RPC_PORT),
      '--metrics-host',
      address,
      '--metrics-port',
      String(METRICS_PORT),
      '--p2p-host',
      address,
      '--p2p-port',
      String(P2P_PORT),
      '--block-interval',
      String(this.opts.blockIntervalMs),
      '--log-format',
      'json',
      '--verify-workers',
      '1',
      ...peers.flatMap((p) => ['--bootstrap', p]),
      ...(this.opts.extraArgs ?? []),
    ];
    // `ip netns exec` execs the command, so the child's pid is the node's pid.
    const child = spawn('ip', ['netns', 'exec', node.net.ns, process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    node.process = child;
    node.paused = false;
    node.starts++;
    child.once('exit', () => {
      if (node.process === child) node.process = null;
    });
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node.net.index);
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(index: number): Promise<void> {
    await this.signalAndWait(index, 'SIGKILL');
  }

  /** SIGTERM (a clean shutdown); resolves when the process has exited. */
  async stop(index: number): Promise<void> {
    await this.signalAndWait(index, 'SIGTERM');
  }

  async restart(index: number): Promise<void> {
    await this.stop(index);
    this.start(index);
  }

  pause(index: number): void {
    const node = this.node(index);
    node.process?.kill('SIGSTOP');
    node.paused = true;
  }

  resume(index: number): void {
    const node = this.node(index);
    node.process?.kill('SIGCONT');
    node.paused = false;
  }

  /** Resident memory of a running node in bytes, from /proc (null when not running). */
  rssBytes(index: number): number | null {
    const pid = this.node(index).process?.pid;
    if (pid === undefined) return null;
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match === null ? null : Number(match[1]) * 1024;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  node(index: number): ClusterNode {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`no node ${index}`);
    return node;
  }

  /** Last resort when the harness itself fails: SIGKILL every node now. */
  killAllNow(): void {
    for (const node of this.nodes) {
      node.process?.kill('SIGKILL');
      node.process = null;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        if (node.paused) this.resume(node.net.index);
        if (node.process !== null) await this.signalAndWait(node.net.index, 'SIGTERM', 15_000);
      }),
    );
    for (const log of this.logStreams.values()) log.end();
  }

  private async signalAndWait(
    index: number,
    signal: NodeJS.Signals,
    timeoutMs = 20_000,
  ): Promise<void> {
    const node = this.node(index);
    const child = node.process;
    if (child === null) return;
    if (node.paused) child.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    node.process = null;
    node.paused = false;
  }
}
