/** A real `utxod start` child process with its JSON log lines parsed, for integration tests. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const UTXOD_BIN = fileURLToPath(new URL('../../bin/utxod.js', import.meta.url));

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** Runs `utxod <args>` to completion (for init, verify-chain...). */
export function runUtxod(args: string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const result = spawnSync(process.execPath, [UTXOD_BIN, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `utxod <args>` without blocking the event loop, for tests whose own node or
 * stream must keep running meanwhile; `env` is laid over this process's.
 */
export function runUtxodAsync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [UTXOD_BIN, ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `utxod init --datadir DIR [--genesis FILE]`; throws with utxod's stderr if it fails. */
export function initNodeDir(dir: string, genesisFile?: string): string {
  const args = ['init', '--datadir', dir];
  if (genesisFile !== undefined) args.push('--genesis', genesisFile);
  const result = runUtxod(args);
  if (result.status !== 0) throw new Error(`utxod init failed: ${result.stderr}`);
  return dir;
}

export class NodeProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> =
    [];
  stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.logs.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(line)) return true;
        w.resolve(line);
        return false;
      });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  static start(datadir: string, extraArgs: string[] = []): NodeProcess {
    const child = spawn(
      process.execPath,
      [
        UTXOD_BIN,
        'start',
        '--datadir',
        datadir,
        '--rpc-port',
        '0',
        '--metrics-port',
        '0',
        '--p2p-port',
        '0',
        '--log-format',
        'json',
        '--verify-workers',
        '1',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new NodeProcess(child);
  }

  /**
   * `utxod start` on the ports of the data directory's own config (e.g. a
   * `testnet init` node); `nodeArgs` go to Node itself (e.g. `--cpu-prof`).
   */
  static startConfigured(datadir: string, nodeArgs: readonly string[] = []): NodeProcess {
    const child = spawn(
      process.execPath,
      [...nodeArgs, UTXOD_BIN, 'start', '--datadir', datadir, '--log-format', 'json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new NodeProcess(child);
  }

  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(test: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const seen = this.logs.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`node exited before the log line appeared; stderr: ${this.stderr}`));
      });
    });
  }

  /** The first libp2p multiaddr (with /p2p/<peer id>) the node logged at start. */
  async listenAddr(timeoutMs?: number): Promise<string> {
    const line = await this.waitForLog((l) => l.msg === 'p2p listening', timeoutMs);
    const addr = (line['listenAddrs'] as string[])[0];
    if (addr === undefined || !addr.includes('/p2p/'))
      throw new Error(`no listen address: ${JSON.stringify(line)}`);
    return addr;
  }

  async url(timeoutMs?: number): Promise<string> {
    const line = await this.waitForLog((l) => l.msg === 'api listening', timeoutMs);
    return String(line['url']);
  }

  async metricsUrl(): Promise<string> {
    const line = await this.waitForLog((l) => l.msg === 'metrics listening');
    return String(line['url']);
  }

  /** Highest height the node has logged as committed. */
  get committedHeight(): number {
    let height = -1;
    for (const line of this.logs)
      if (line.msg === 'committed block') height = Math.max(height, Number(line['height']));
    return height;
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return this.exited;
  }
}

/**
 * `utxod token issue` for a node's data directory. Call it once the node is
 * up (it creates the token signing keys on its first start).
 */
export function issueToken(datadir: string, role: 'reader' | 'admin' = 'reader'): string {
  const issued = runUtxod(['token', 'issue', '--role', role, '--datadir', datadir, '--json']);
  if (issued.status !== 0) throw new Error(`utxod token issue failed: ${issued.stderr}`);
  return (JSON.parse(issued.stdout) as { token: string }).token;
}

const authHeader = (token?: string): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` };

export async function getJson<T>(
  url: string,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: authHeader(token) });
  return { status: response.status, body: (await response.json()) as T };
}

export async function postJson<T>(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeader(token) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}
