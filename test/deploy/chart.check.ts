/**
 * Static checks of the Helm chart (needs helm: scripts/ci/check-chart.sh
 * installs it; this file is not in the `npm test` glob). For the default values
 * and every ci/*-values.yaml: `helm lint --strict`, `helm template`, every
 * object valid against its Kubernetes/CRD schema with no unknown field, and the
 * security properties the chart promises, asserted on the rendered objects.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONFIG_KEYS, envName, loadConfig } from '../../src/config/index.ts';
import { CHART, helm, type K8sObject, render } from './helm.ts';
import { hasSchema, validateObject } from './k8s-schema.ts';

const VALUES_FILES = [
  null,
  ...readdirSync(join(CHART, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => join(CHART, 'ci', f)),
];
const RPC_PORT = 8645;
const METRICS_PORT = 9645;

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);
const list = (o: unknown, ...path: string[]): Obj[] => (get(o, ...path) as Obj[] | undefined) ?? [];

/** The VerticalPodAutoscaler CRD has no published model here: its few fields are checked by hand. */
function checkVpa(vpa: K8sObject): void {
  assert.deepEqual(Object.keys(vpa).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.deepEqual(Object.keys(vpa['spec'] as Obj).sort(), [
    'resourcePolicy',
    'targetRef',
    'updatePolicy',
  ]);
  assert.deepEqual(Object.keys(get(vpa, 'spec', 'targetRef') as Obj).sort(), [
    'apiVersion',
    'kind',
    'name',
  ]);
  assert.ok(
    ['Off', 'Initial', 'Recreate', 'InPlaceOrRecreate', 'Auto'].includes(
      String(get(vpa, 'spec', 'updatePolicy', 'updateMode')),
    ),
  );
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function assertRestrictedPod(name: string, pod: Obj): void {
  const sc = (pod['securityContext'] ?? {}) as Obj;
  assert.equal(sc['runAsNonRoot'], true, `${name}: pod runAsNonRoot`);
  assert.equal(get(sc, 'seccompProfile', 'type'), 'RuntimeDefault', `${name}: pod seccomp`);
  assert.notEqual(sc['runAsUser'], 0, `${name}: runAsUser 0`);
  assert.equal(pod['automountServiceAccountToken'], false, `${name}: token automount`);
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'])
    assert.notEqual(pod[key], true, `${name}: ${key}`);
  for (const volume of list(pod, 'volumes'))
    assert.equal(volume['hostPath'], undefined, `${name}: hostPath volume ${volume['name']}`);
  const containers = [...list(pod, 'initContainers'), ...list(pod, 'containers')];
  assert.ok(containers.length > 0);
  for (const c of containers) {
    const where = `${name} container ${c['name']}`;
    const csc = (c['securityContext'] ?? {}) as Obj;
    assert.equal(csc['allowPrivilegeEscalation'], false, `${where}: allowPrivilegeEscalation`);
    assert.equal(csc['readOnlyRootFilesystem'], true, `${where}: readOnlyRootFilesystem`);
    assert.notEqual(csc['privileged'], true, `${where}: privileged`);
    assert.deepEqual(get(csc, 'capabilities', 'drop'), ['ALL'], `${where}: capabilities drop`);
    assert.equal(get(csc, 'capabilities', 'add'), undefined, `${where}: capabilities add`);
    assert.notEqual(csc['runAsUser'], 0, `${where}: runAsUser 0`);
    assert.ok(get(c, 'resources', 'limits', 'memory'), `${where}: memory limit`);
    assert.ok(
      String(c['image']).match(/[:@]/) && !String(c['image']).endsWith(':latest'),
      `${where}: pinned image`,
    );
  }
}

describe('Helm chart', () => {
  for (const valuesFile of VALUES_FILES) {
    const label = valuesFile === null ? 'default values' : valuesFile.slice(CHART.length + 1);
    describe(label, () => {
      it('helm lint --strict passes', () => {
        const out = helm(['lint', '--strict', CHART, ...(valuesFile ? ['-f', valuesFile] : [])]);
        assert.equal(out.status, 0, out.stdout + out.stderr);
      });

      const objects = render(valuesFile);
      const byKind = (kind: string) => objects.filter((o) => o.kind === kind);

      it('every object is valid against its schema, with no unknown field', async () => {
        for (const obj of objects) {
          const where = `${obj.kind}/${obj.metadata.name}`;
          if (obj.apiVersion === 'autoscaling.k8s.io/v1' && obj.kind === 'VerticalPodAutoscaler') {
            checkVpa(obj);
            continue;
          }
          assert.ok(hasSchema(obj.apiVersion), `${where}: no schema for ${obj.apiVersion}`);
          assert.deepEqual(await validateObject(obj), [], where);
        }
      });

      const [sts] = byKind('StatefulSet');
      assert.ok(sts !== undefined, 'one StatefulSet');
      const pod = get(sts, 'spec', 'template', 'spec') as Obj;
      const podLabels = get(sts, 'spec', 'template', 'metadata', 'labels') as Record<
        string,
        string
      >;

      it('pods meet Pod Security "restricted" and mount no token', () => {
        assertRestrictedPod(`StatefulSet/${sts.metadata.name}`, pod);
        // Secret files are root-owned; the non-root init container reads them through fsGroup.
        const fsGroup = get(pod, 'securityContext', 'fsGroup');
        for (const volume of list(pod, 'volumes').filter((v) => v['secret'] !== undefined)) {
          const mode = Number(get(volume, 'secret', 'defaultMode'));
          assert.ok(
            fsGroup !== undefined && (mode & 0o040) !== 0 && (mode & 0o007) === 0,
            `${volume['name']}`,
          );
        }
        for (const sa of byKind('ServiceAccount'))
          assert.equal(sa['automountServiceAccountToken'], false, `${sa.metadata.name}`);
      });

      it('has a PVC per pod, probes that tolerate a long start, and time to shut down', () => {
        const claims = list(sts, 'spec', 'volumeClaimTemplates');
        assert.equal(claims.length, 1);
        const node = list(pod, 'containers').find((c) => c['name'] === 'utxod') as Obj;
        assert.ok(
          list(node, 'volumeMounts').some(
            (m) => m['name'] === get(claims[0], 'metadata', 'name') && m['mountPath'] === '/data',
          ),
        );
        assert.equal(get(node, 'livenessProbe', 'httpGet', 'path'), '/health/live');
        assert.equal(get(node, 'readinessProbe', 'httpGet', 'path'), '/health/ready');
        const startup = get(node, 'startupProbe') as Obj;
        assert.ok(
          Number(startup['periodSeconds']) * Number(startup['failureThreshold']) >= 300,
          'startup probe allows at least 5 minutes',
        );
        assert.ok(Number(pod['terminationGracePeriodSeconds']) >= 30);
      });

      it('no Service exposes the RPC or metrics port without a NetworkPolicy limiting who may call it', () => {
        const policies = byKind('NetworkPolicy').filter((np) =>
          matches(
            get(np, 'spec', 'podSelector', 'matchLabels') as Record<string, string>,
            podLabels,
          ),
        );
        for (const svc of byKind('Service')) {
          for (const port of list(svc, 'spec', 'ports')) {
            const sensitive = [RPC_PORT, METRICS_PORT].includes(Number(port['port']));
            if (!sensitive) continue;
            const where = `Service/${svc.metadata.name} port ${port['port']}`;
            assert.ok(policies.length > 0, `${where}: no NetworkPolicy selects its pods`);
            for (const np of policies) {
              assert.ok(list(np, 'spec', 'policyTypes').includes('Ingress' as never));
              for (const rule of list(np, 'spec', 'ingress')) {
                const ports = list(rule, 'ports').map((p) => Number(p['port']));
                if (ports.includes(Number(port['port'])))
                  assert.ok(list(rule, 'from').length > 0, `${where}: open to every source`);
              }
            }
          }
        }
      });

      it('egress is limited to DNS and the p2p port', () => {
        for (const np of byKind('NetworkPolicy')) {
          assert.ok(list(np, 'spec', 'policyTypes').includes('Egress' as never));
          const ports = list(np, 'spec', 'egress').flatMap((r) =>
            list(r, 'ports').map((p) => Number(p['port'])),
          );
          assert.deepEqual([...new Set(ports)].sort(), [53, 8646]);
          assert.ok(list(np, 'spec', 'egress').every((r) => list(r, 'ports').length > 0));
        }
      });

      it("the node's own config loader accepts the rendered settings", () => {
        const cm = byKind('ConfigMap').find((c) => c.metadata.name.endsWith('-config'));
        const env = get(cm, 'data') as Record<string, string>;
        const known = new Set([...CONFIG_KEYS.map(envName), 'UTXOD_DATADIR']);
        for (const name of Object.keys(env))
          assert.ok(known.has(name), `${name} is no node setting`);
        const dir = mkdtempSync(join(tmpdir(), 'utxod-chart-config-'));
        try {
          const config = loadConfig(dir, {}, env);
          assert.equal(config.rpcHost, '0.0.0.0');
          assert.equal(config.metricsHost, '0.0.0.0');
          assert.equal(config.rpcPort, RPC_PORT);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('a PodDisruptionBudget covers the pods', () => {
        const pdbs = byKind('PodDisruptionBudget');
        assert.equal(pdbs.length, 1);
        assert.ok(
          matches(
            get(pdbs[0], 'spec', 'selector', 'matchLabels') as Record<string, string>,
            podLabels,
          ),
        );
      });

      it('an Ingress has TLS from cert-manager', () => {
        for (const ing of byKind('Ingress')) {
          assert.ok(list(ing, 'spec', 'tls').length > 0, 'tls');
          assert.ok(get(ing, 'metadata', 'annotations', 'cert-manager.io/cluster-issuer'));
        }
      });

      it('monitoring objects carry the shipped rules and dashboards', () => {
        const rulesFile = parse(readFileSync(join(CHART, 'files/alerts.rules.yaml'), 'utf8'));
        for (const rule of byKind('PrometheusRule')) assert.deepEqual(get(rule, 'spec'), rulesFile);
        for (const cm of byKind('ConfigMap').filter((c) =>
          c.metadata.name.endsWith('-dashboards'),
        )) {
          const shipped = readdirSync(join(CHART, 'files/dashboards'));
          assert.deepEqual(Object.keys(get(cm, 'data') as Obj).sort(), shipped.sort());
          for (const f of shipped) JSON.parse(String(get(cm, 'data', f)));
        }
      });
    });
  }
});

describe('bad values fail helm install with a message naming the value', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['negative replicas', ['--set', 'replicaCount=-1'], /replicaCount/],
    ['non-numeric config', ['--set', 'config.blockIntervalMs=fast'], /blockIntervalMs/],
    ['unknown config key', ['--set', 'config.blockIntervalSeconds=1'], /blockIntervalSeconds/],
    ['unknown top-level key', ['--set', 'replicas=3'], /replicas/],
    ['bad pull policy', ['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
    ['bad bootstrap address', ['--set', 'network.bootstrap[0]=10.0.0.1:8646'], /bootstrap/],
    [
      'short grace period',
      ['--set', 'terminationGracePeriodSeconds=5'],
      /terminationGracePeriodSeconds/,
    ],
    ['per-pod keys without a Secret', ['--set', 'validatorKey.perPod=true'], /existingSecret/],
    ['snapshot import without a claim', ['--set', 'snapshotImport.enabled=true'], /claimName/],
    [
      'snapshot file outside its claim',
      ['--set', 'snapshotImport.claimName=snaps', '--set', 'snapshotImport.file=../x'],
      /file/,
    ],
    [
      'public RPC without a NetworkPolicy',
      ['--set', 'networkPolicy.enabled=false', '--set', 'service.rpc.type=LoadBalancer'],
      /networkPolicy\.enabled/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const out = helm(['template', 'utxod', CHART, ...args]);
      assert.notEqual(out.status, 0, `${name}: helm accepted it`);
      assert.match(out.stderr, message);
    });
  }
});
