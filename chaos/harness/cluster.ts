/**
 * Real `utxod` processes, one per namespace of a ChaosNetwork: N validators
 * whose data directories `utxod testnet init` lays out (one genesis naming
 * all N keys, equal power), plus optional full nodes initialised from that
 * genesis; each node started inside its namespace on its own address, logs
 * kept in the run folder, and the faults that act on processes (kill -9,
 * pause, resume, restart) or their surroundings (environment such as a clock
 * offset, a small tmpfs data directory).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  createWriteStream,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  type WriteStream,
  writeSync,
} from 'node:fs';
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
  /** The validator's public key (hex) as block headers name their proposer; null for a full node. */
  readonly validatorKey: string | null;
  /** An operator token minted offline from this node's own signing keys. */
  token: string;
  process: ChildProcess | null;
  paused: boolean;
  starts: number;
  /** Extra environment for the next start (e.g. UTXOD_CLOCK_OFFSET_MS). */
  env: Record<string, string>;
  /** The utxod entry point the next start runs (another build's, for an upgrade). */
  bin: string;
  /** Extra `utxod start` arguments for the next start (e.g. --state-sync). */
  args: string[];
  /** The tmpfs mounted on the data directory, if any (unmounted at teardown). */
  tmpfsMb: number | null;
  /** Exit code or signal of the last process that ended, for scenarios that expect a stop. */
  lastExit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

function utxod(args: string[]): string {
  return execFileSync(process.execPath, [UTXOD_BIN, ...args], { encoding: 'utf8' }).trim();
}

export interface ClusterOptions {
  readonly blockIntervalMs: number;
  /** The first `validators` nodes of the network are validators, the rest full nodes. */
  readonly validators: number;
  readonly extraArgs?: readonly string[];
}

export class ChaosCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly logStreams = new Map<string, WriteStream>();
  private readonly bootstrap: string[] = [];

  readonly net: ChaosNetwork;
  readonly dir: string;
  private readonly opts: ClusterOptions;

  constructor(net: ChaosNetwork, dir: string, opts: ClusterOptions) {
    if (opts.validators < 1 || opts.validators > net.nodes.length)
      throw new Error(`${opts.validators} validators on a network of ${net.nodes.length} nodes`);
    this.net = net;
    this.dir = dir;
    this.opts = opts;
  }

  get validatorCount(): number {
    return this.opts.validators;
  }

  /**
   * The validators come from `utxod testnet init` (the same genesis builder
   * `utxod testnet` uses: N keys, equal power, the devnet allocations, so the
   * load generator's premined account exists); its loopback addresses in
   * each utxod.json are overridden by the flags `start` passes. Full nodes
   * join with that genesis. Every node bootstraps to every other.
   */
  init(): void {
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const netDir = join(this.dir, 'data', 'testnet');
    utxod([
      'testnet',
      'init',
      '--out',
      netDir,
      '--validators',
      String(this.opts.validators),
      '--block-interval',
      String(this.opts.blockIntervalMs),
    ]);
    const layout = JSON.parse(readFileSync(join(netDir, 'testnet.json'), 'utf8')) as {
      nodes: Array<{ datadir: string; peerId: string; validatorKey: string }>;
    };
    for (const net of this.net.nodes) {
      const name = `node${net.index}`;
      const validator = layout.nodes[net.index];
      let datadir: string;
      let peerId: string;
      if (validator !== undefined) {
        datadir = validator.datadir;
        peerId = validator.peerId;
      } else {
        datadir = join(this.dir, 'data', name);
        utxod([
          'init',
          '--datadir',
          datadir,
          '--genesis',
          join(layout.nodes[0]!.datadir, 'genesis.json'),
        ]);
        peerId = utxod(['peers', 'id', '--datadir', datadir]).split('\n').pop() ?? '';
      }
      this.bootstrap.push(`/ip4/${net.address}/tcp/${P2P_PORT}/p2p/${peerId}`);
      this.nodes.push({
        net,
        name,
        datadir,
        logPath: join(this.dir, 'logs', `${name}.log`),
        rpcUrl: `http://${net.address}:${RPC_PORT}`,
        metricsUrl: `http://${net.address}:${METRICS_PORT}`,
        isValidator: validator !== undefined,
        validatorKey: validator?.validatorKey ?? null,
        token:
          utxod(['token', 'issue', '--datadir', datadir, '--role', 'operator', '--ttl', '6h'])
            .split('\n')
            .pop() ?? '',
        process: null,
        paused: false,
        starts: 0,
        env: {},
        bin: UTXOD_BIN,
        args: [],
        tmpfsMb: null,
        lastExit: null,
      });
    }
  }

  /** The node's libp2p address on the bridge (`/ip4/.../tcp/.../p2p/ID`), for a test-only peer to dial. */
  p2pAddress(index: number): string {
    const address = this.bootstrap[index];
    if (address === undefined) throw new Error(`no node ${index}`);
    return address;
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
      node.bin,
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
      ...node.args,
    ];
    // `ip netns exec` execs the command, so the child's pid is the node's pid.
    const child = spawn('ip', ['netns', 'exec', node.net.ns, process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...node.env },
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    node.process = child;
    node.paused = false;
    node.starts++;
    child.once('exit', (code, signal) => {
      node.lastExit = { code, signal };
      if (node.process === child) node.process = null;
    });
  }

  /** Starts every node but the `later` ones (a scenario starts those itself). */
  startAll(later: readonly number[] = []): void {
    for (const node of this.nodes) if (!later.includes(node.net.index)) this.start(node.net.index);
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

  /**
   * Moves a stopped node's data directory onto a tmpfs of `mb` megabytes
   * mounted on the same path, so that `fillDisk` can make it run out of space.
   */
  mountTmpfs(index: number, mb: number): void {
    const node = this.node(index);
    if (node.process !== null) throw new Error(`${node.name} must be stopped to move its data`);
    if (node.tmpfsMb !== null) return;
    const aside = `${node.datadir}.before-tmpfs`;
    renameSync(node.datadir, aside);
    mkdirSync(node.datadir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=0700`, 'tmpfs', node.datadir]);
    node.tmpfsMb = mb;
    cpSync(aside, node.datadir, { recursive: true });
    rmSync(aside, { recursive: true, force: true });
  }

  /** Fills the node's tmpfs up to the last byte; returns the bytes written. */
  fillDisk(index: number): number {
    const node = this.node(index);
    if (node.tmpfsMb === null) throw new Error(`${node.name} has no tmpfs to fill`);
    const { bavail, bsize } = statfsSync(node.datadir);
    const bytes = Number(bavail) * Number(bsize);
    const fd = openSync(this.fillerPath(index), 'w');
    const chunk = Buffer.alloc(1 << 20);
    let written = 0;
    try {
      // Written, not fallocated: the node must meet ENOSPC exactly as on a real full disk.
      while (written < bytes)
        written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
    return written;
  }

  freeDisk(index: number): void {
    rmSync(this.fillerPath(index), { force: true });
  }

  private fillerPath(index: number): string {
    return join(this.node(index).datadir, 'chaos-disk-filler');
  }

  /** Copies a stopped node's data off its tmpfs back to disk and unmounts it (kept for the report). */
  unmountTmpfs(index: number): void {
    const node = this.node(index);
    if (node.tmpfsMb === null) return;
    this.freeDisk(index);
    const saved = `${node.datadir}.from-tmpfs`;
    cpSync(node.datadir, saved, { recursive: true });
    execFileSync('umount', [node.datadir]);
    node.tmpfsMb = null;
    rmSync(node.datadir, { recursive: true, force: true });
    renameSync(saved, node.datadir);
  }

  /** Last resort when the harness itself fails: SIGKILL every node now. */
  killAllNow(): void {
    for (const node of this.nodes) {
      node.process?.kill('SIGKILL');
      node.process = null;
      if (node.tmpfsMb !== null) {
        // Lazy: the killed process may not have released the mount yet.
        execFileSync('umount', ['-l', node.datadir], { stdio: 'ignore' });
        node.tmpfsMb = null;
      }
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        if (node.paused) this.resume(node.net.index);
        if (node.process !== null) await this.signalAndWait(node.net.index, 'SIGTERM', 15_000);
      }),
    );
    for (const node of this.nodes) {
      try {
        this.unmountTmpfs(node.net.index);
      } catch (error) {
        // Teardown must go on (namespaces, bridge): detach the mount, the data on it is lost.
        process.stderr.write(
          `${node.name}: keeping its tmpfs data failed (${(error as Error).message}); lazy unmount\n`,
        );
        if (node.tmpfsMb !== null)
          execFileSync('umount', ['-l', node.datadir], { stdio: 'ignore' });
        node.tmpfsMb = null;
      }
    }
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
