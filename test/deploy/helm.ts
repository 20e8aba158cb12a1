/** Runs the helm binary that scripts/ci/install-tools.sh extracts (or $HELM). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = `${ROOT}k8s/helm/utxod`;

export function helmPath(): string {
  const path = process.env['HELM'] ?? `${ROOT}node_modules/.cache/utxod-ci/helm`;
  if (!existsSync(path))
    throw new Error(`no helm at ${path}: run scripts/ci/install-tools.sh helm (or set HELM)`);
  return path;
}

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helmPath(), args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** `helm template` of the chart with a values file (or none); throws with helm's stderr. */
export function render(valuesFile: string | null, extra: string[] = []): K8sObject[] {
  const args = ['template', 'utxod', CHART, '--namespace', 'utxod', ...extra];
  if (valuesFile !== null) args.push('-f', valuesFile);
  const out = helm(args);
  if (out.status !== 0) throw new Error(`helm ${args.join(' ')} failed: ${out.stderr}`);
  return parseObjects(out.stdout);
}
