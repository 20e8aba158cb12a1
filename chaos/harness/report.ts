/** What happened during a scenario, when, and what was checked: written to report.json and report.md. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TimelineEntry {
  readonly atMs: number;
  readonly kind: 'fault' | 'heal' | 'check' | 'recovered' | 'note' | 'failure';
  readonly text: string;
}

export interface InvariantResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export class ScenarioReport {
  readonly timeline: TimelineEntry[] = [];
  readonly invariants: InvariantResult[] = [];
  readonly recoveriesMs: number[] = [];
  /** From a node's process start to its API answering (not part of recovery). */
  readonly startupsMs: number[] = [];
  /** Resident memory per node, with each node's process generation (a restart starts a new one). */
  readonly memory: Array<{ atMs: number; rssMb: number[]; starts: number[] }> = [];
  /**
   * The first block hash any node showed at each height: a later answer with
   * another hash is a fork even if the first node is down by then.
   */
  readonly seenHashes = new Map<number, string>();
  readonly scenario: string;
  readonly purpose: string;
  private readonly startedAt = Date.now();

  constructor(scenario: string, purpose: string) {
    this.scenario = scenario;
    this.purpose = purpose;
  }

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  log(kind: TimelineEntry['kind'], text: string): void {
    const entry = { atMs: this.elapsedMs, kind, text };
    this.timeline.push(entry);
    process.stderr.write(
      `[${(entry.atMs / 1000).toFixed(1).padStart(6)} s] ${kind.padEnd(9)} ${text}\n`,
    );
  }

  check(name: string, ok: boolean, detail: string): void {
    this.invariants.push({ name, ok, detail });
    this.log(ok ? 'check' : 'failure', `${name}: ${detail}`);
  }

  get passed(): boolean {
    return this.invariants.length > 0 && this.invariants.every((i) => i.ok);
  }

  write(dir: string): void {
    const summary = {
      scenario: this.scenario,
      purpose: this.purpose,
      date: new Date(this.startedAt).toISOString(),
      durationMs: this.elapsedMs,
      passed: this.passed,
      recoveriesMs: this.recoveriesMs,
      maxRecoveryMs: this.recoveriesMs.length === 0 ? null : Math.max(...this.recoveriesMs),
      startupsMs: this.startupsMs,
      invariants: this.invariants,
      memory: this.memory,
      timeline: this.timeline,
    };
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const lines = [
      `# ${this.scenario}: ${this.passed ? 'passed' : 'FAILED'}`,
      '',
      this.purpose,
      '',
      `- date: ${summary.date}`,
      `- duration: ${(summary.durationMs / 1000).toFixed(1)} s`,
      `- recoveries: ${this.recoveriesMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || 'none measured'}`,
      `- node startups (start to API answering): ${this.startupsMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || 'none'}`,
      '',
      '## Invariants',
      '',
      ...this.invariants.map((i) => `- ${i.ok ? 'ok' : 'FAILED'} ${i.name}: ${i.detail}`),
      '',
      '## Timeline',
      '',
      ...this.timeline.map((t) => `- ${(t.atMs / 1000).toFixed(1)} s ${t.kind}: ${t.text}`),
      '',
    ];
    writeFileSync(join(dir, 'report.md'), lines.join('\n'));
  }
}
