/**
 * Every metric that the shipped Grafana dashboards and Prometheus alert rules
 * query must be one a running node really exports (or one of the few that
 * Prometheus, the kubelet or cert-manager export). Starts a real devnet node,
 * scrapes /metrics and checks each expression's metric names.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { NodeProcess } from '../support/node-process.ts';
import { parseExposition } from '../support/prometheus.ts';
import { dashboardExpressions, EXTERNAL_METRICS, metricNames } from './promql-names.ts';

const FILES = fileURLToPath(new URL('../../k8s/helm/utxod/files/', import.meta.url));

interface Expression {
  readonly where: string;
  readonly expr: string;
}

function ruleExpressions(): Expression[] {
  const doc = parse(readFileSync(join(FILES, 'alerts.rules.yaml'), 'utf8')) as {
    groups: Array<{
      name: string;
      rules: Array<{ alert?: string; record?: string; expr: string }>;
    }>;
  };
  return doc.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: String(r.expr) })),
  );
}

function panelExpressions(): Expression[] {
  const dir = join(FILES, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) =>
      dashboardExpressions(JSON.parse(readFileSync(join(dir, f), 'utf8'))).map((e) => ({
        where: `${f} ${e.where}`,
        expr: e.expr,
      })),
    );
}

describe('metricNames', () => {
  it('finds metric names in PromQL the way the checks below rely on', () => {
    assert.deepEqual(
      [
        ...metricNames(
          'sum by (route, le) (rate(a_bucket{instance=~"$instance",status=~"5.."}[5m])) / on(instance) b > 0.9 * 64',
        ),
      ],
      ['a_bucket', 'b'],
    );
    assert.deepEqual(
      [...metricNames('label_values(utxod_chain_height, instance)')],
      ['utxod_chain_height'],
    );
    assert.deepEqual([...metricNames('up{job=~".*utxod.*"} == 0')], ['up']);
  });
});

describe('dashboards and alert rules query only exported metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-monitoring-'));
  let node: NodeProcess;
  const exported = new Set<string>();

  before(async () => {
    node = NodeProcess.start(join(dir, 'node'), ['--block-interval', '200']);
    // Generous: on a loaded CI machine a first start (genesis, LevelDB, libp2p) can take tens of seconds.
    await node.waitForLog((l) => l.msg === 'committed block' && Number(l['height']) >= 2, 120_000);
    const api = await node.url();
    // Serve a few requests first so the HTTP histograms have samples too.
    for (const path of ['/health/live', '/health/ready', '/api/v1/no-such-route'])
      await (await fetch(`${api}${path}`)).arrayBuffer();
    const text = await (await fetch(`${await node.metricsUrl()}/metrics`)).text();
    for (const family of parseExposition(text).families.values()) {
      exported.add(family.name);
      for (const sample of family.samples) exported.add(sample.name);
    }
  });

  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the node exports the families the dashboards are built around', () => {
    for (const name of [
      'utxod_chain_height',
      'utxod_http_requests_total',
      'process_cpu_seconds_total',
    ])
      assert.ok(exported.has(name), `${name} missing from /metrics`);
  });

  const expressions = [...ruleExpressions(), ...panelExpressions()];

  it('there are rules and panels to check', () => {
    assert.ok(expressions.filter((e) => e.where.startsWith('rule')).length >= 10);
    assert.ok(expressions.filter((e) => !e.where.startsWith('rule')).length >= 20);
  });

  for (const { where, expr } of expressions) {
    it(`${where}: every metric is exported`, () => {
      const names = [...metricNames(expr)];
      assert.ok(names.length > 0, `no metric in ${expr}`);
      for (const name of names) {
        if (EXTERNAL_METRICS.some((m) => m.pattern.test(name))) continue;
        assert.ok(exported.has(name), `${where} queries ${name}, which the node does not export`);
      }
    });
  }
});
