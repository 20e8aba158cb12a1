/**
 * What an operator does to a node from outside (the `utxod` CLI, its
 * metrics, its files on disk), for the scenarios that back up, restore or
 * damage a node's data: run without blocking the harness's periodic checks.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ClusterNode } from './cluster.ts';
import { UTXOD_BIN } from './cluster.ts';
import type { ChaosNetwork } from './netns.ts';
import type { ScenarioReport } from './report.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** `utxod ARGS` from the root namespace (the bridge reaches every node's API); never throws on exit code. */
export function utxodCli(args: readonly string[], timeoutMs = 120_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [UTXOD_BIN, ...args],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : Number.NaN;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/**
 * Duplicate-vote evidence each node has detected so far
 * (`utxod_consensus_evidence_total{stage="seen"}`), -1 where the node does
 * not answer. A validator that signs two different votes for one position is
 * caught by the honest nodes here.
 */
export async function evidenceSeen(
  net: ChaosNetwork,
  nodes: readonly ClusterNode[],
): Promise<number[]> {
  return Promise.all(
    nodes.map(async (node) => {
      net.assertOwnAddress(new URL(node.metricsUrl).hostname);
      try {
        const text = await (
          await fetch(node.metricsUrl, { signal: AbortSignal.timeout(3_000) })
        ).text();
        const match = /^utxod_consensus_evidence_total\{stage="seen"\} (\d+)/m.exec(text);
        return match === null ? 0 : Number(match[1]);
      } catch (error) {
        if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'TypeError')
          return -1;
        throw error;
      }
    }),
  );
}

export interface WalRecord {
  readonly offset: number;
  /** Payload length (the record is 8 header bytes plus this). */
  readonly length: number;
  /** u8 kind: 1 proposal, 2 vote, 3 timeout, 4 end-height (docs/consensus.md). */
  readonly kind: number;
}

/** The records of a consensus WAL, by the framing docs/consensus.md gives; stops at a torn tail. */
export function walRecords(path: string): WalRecord[] {
  const bytes = readFileSync(path);
  const out: WalRecord[] = [];
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    if (length === 0 || offset + 8 + length > bytes.length) break;
    out.push({ offset, length, kind: bytes[offset + 8]! });
    offset += 8 + length;
  }
  return out;
}

/**
 * The nodes that kept running count no new duplicate-vote evidence, and the
 * restarted one (a new process, its counter from zero) none at all: nothing
 * signed two different votes for one position.
 */
export async function checkNoConflictingVotes(
  net: ChaosNetwork,
  nodes: readonly ClusterNode[],
  before: readonly number[],
  restarted: number,
  report: ScenarioReport,
): Promise<void> {
  const after = await evidenceSeen(net, nodes);
  report.check(
    `no conflicting vote from node${restarted}`,
    after.every((n, i) => n >= 0 && (i === restarted ? n === 0 : n === before[i])),
    `duplicate-vote evidence seen per node ${before.join('/')} before, ${after.join('/')} after`,
  );
}
