import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LAUNCHER = `${ROOT}bin/utxod.js`;

/**
 * The environment a user has after the README's set-up: `bin` first on PATH,
 * and the machine's own node behind it (npm's node_modules/.bin removed), so
 * the launcher's hand-over from an old Node is what runs. No UTXOD_* leaks in
 * from the caller.
 */
export function userEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('UTXOD_') && !key.startsWith('npm_')) env[key] = value;
  const path = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'));
  return { ...env, HOME: home, PATH: [`${ROOT}bin`, ...path].join(delimiter), ...extra };
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `utxod ...` as typed in a shell, through the launcher on PATH. */
export function utxod(env: NodeJS.ProcessEnv, args: readonly string[], cwd?: string): Run {
  const run = spawnSync('utxod', args, { env, encoding: 'utf8', timeout: 120_000, cwd });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A user mistake answers with exactly one line on stderr, never a stack trace. */
export function oneLine(run: Run): string {
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || /^\s+at /m.test(run.stderr))
    throw new Error(`expected one error line, got:\n${run.stderr}`);
  return lines[0]!;
}
