/**
 * Checks of the deployment files that need no helm or podman (so they run in
 * `npm test`): the ArgoCD objects against the Argo CD schemas, the chart's
 * config schema against the node's real config keys, and the four-validator
 * example network against its keys.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { parse, parseAllDocuments } from 'yaml';
import { parseGenesis } from '../../src/chain/genesis.ts';
import { CONFIG_KEYS } from '../../src/config/index.ts';
import { toHex } from '../../src/util/bytes.ts';
import { validateObject } from './k8s-schema.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHART = join(ROOT, 'k8s/helm/utxod');
const ARGOCD = join(ROOT, 'k8s/argocd');
const KEYS = join(ROOT, 'k8s/compose/keys');
const RESTRICTED = 'pod-security.kubernetes.io/enforce';

function readdirOrFile(path: string): void {
  try {
    readdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    readFileSync(path);
  }
}

type Obj = Record<string, unknown>;
const argoObjects = readdirSync(ARGOCD)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(ARGOCD, f), 'utf8')).map((d) => ({
      file: f,
      obj: d.toJS() as Obj & { kind: string; spec?: Obj; metadata: Obj },
    })),
  );

describe('ArgoCD objects', () => {
  it('are valid against the Argo CD and Kubernetes schemas, with no unknown field', async () => {
    assert.deepEqual(argoObjects.map((o) => o.obj.kind).sort(), [
      'Application',
      'ApplicationSet',
      'Namespace',
    ]);
    for (const { file, obj } of argoObjects) assert.deepEqual(await validateObject(obj), [], file);
  });

  it('the schema check would catch a misspelt field', async () => {
    const app = argoObjects.find((o) => o.obj.kind === 'Application')!.obj;
    const bad = structuredClone(app);
    (bad.spec as Obj)['ignoreDifference'] = (bad.spec as Obj)['ignoreDifferences'];
    assert.deepEqual(await validateObject(bad), ['unknown field .spec.ignoreDifference']);
  });

  it('ignore the volumeClaimTemplates drift, respect it on sync, and make restricted namespaces', () => {
    for (const { file, obj } of argoObjects) {
      if (obj.kind === 'Namespace') {
        assert.equal((obj.metadata['labels'] as Obj)[RESTRICTED], 'restricted', file);
        continue;
      }
      const spec = (
        obj.kind === 'ApplicationSet' ? (obj.spec!['template'] as Obj)['spec'] : obj.spec
      ) as Obj;
      const ignore = spec['ignoreDifferences'] as Obj[];
      const sts = ignore.find((i) => i['kind'] === 'StatefulSet' && i['group'] === 'apps')!;
      assert.ok(
        (sts['jqPathExpressions'] as string[]).some((p) =>
          p.startsWith('.spec.volumeClaimTemplates'),
        ),
        file,
      );
      const sync = spec['syncPolicy'] as Obj;
      assert.ok((sync['syncOptions'] as string[]).includes('RespectIgnoreDifferences=true'), file);
      assert.equal(
        ((sync['managedNamespaceMetadata'] as Obj)['labels'] as Obj)[RESTRICTED],
        'restricted',
        file,
      );
    }
  });

  it('point at values files that exist in the chart', () => {
    const app = argoObjects.find((o) => o.obj.kind === 'Application')!.obj;
    const set = argoObjects.find((o) => o.obj.kind === 'ApplicationSet')!.obj;
    const files = [
      ...((((app.spec!['source'] as Obj)['helm'] as Obj)['valueFiles'] as string[]) ?? []),
      ...(((set.spec!['generators'] as Obj[])[0]!['list'] as Obj)['elements'] as Obj[]).map((e) =>
        String(e['values']),
      ),
    ];
    assert.ok(files.length >= 3);
    for (const f of files) readFileSync(join(CHART, f));
  });
});

describe('chart values schema', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
  const SET_BY_CHART = [
    'rpcHost',
    'rpcPort',
    'metricsHost',
    'metricsPort',
    'p2pHost',
    'p2pPort',
    'bootstrap',
    'logFormat',
  ];

  it('config accepts exactly the node config keys the chart does not set itself', () => {
    const keys = Object.keys(schema.properties.config.properties).sort();
    // Test-only keys (the chaos clock offset) are refused by the chart on purpose.
    const TEST_ONLY = ['clockOffsetMs'];
    const expected = CONFIG_KEYS.filter(
      (k) => !SET_BY_CHART.includes(k) && !TEST_ONLY.includes(k),
    ).sort();
    assert.deepEqual(keys, expected);
    assert.equal(schema.properties.config.additionalProperties, false);
  });

  it('the chart README documents every value', () => {
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Obj;
    const missing: string[] = [];
    const walk = (node: unknown, path: string[]): void => {
      const documented = path.some((_, i) =>
        readme.includes(`| \`${path.slice(0, i + 1).join('.')}\` |`),
      );
      const isMap = node !== null && typeof node === 'object' && !Array.isArray(node);
      if (isMap && Object.keys(node).length > 0)
        for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
      else if (!documented) missing.push(path.join('.'));
    };
    walk(values, []);
    assert.deepEqual(missing, []);
  });

  it('rejects unknown keys at every level it describes', () => {
    const walk = (node: Obj, path: string): void => {
      if (node['type'] === 'object' && node['properties'] !== undefined)
        assert.equal(node['additionalProperties'], false, `${path} allows unknown keys`);
      for (const [k, v] of Object.entries((node['properties'] as Obj | undefined) ?? {}))
        walk(v as Obj, `${path}.${k}`);
    };
    walk(schema, 'values');
  });
});

describe('four-validator example network', () => {
  const values = parse(readFileSync(join(CHART, 'ci/four-validators-values.yaml'), 'utf8'));
  const genesis = parseGenesis(values.network.genesis);

  it('its genesis names the four validator keys, one per pod', () => {
    assert.equal(values.replicaCount, 4);
    // Git keeps no 0600 mode, so the key files are read as plain JSON here.
    const keys = [0, 1, 2, 3].map(
      (i) =>
        JSON.parse(readFileSync(join(KEYS, `validator-${i}.json`), 'utf8')).publicKey as string,
    );
    assert.deepEqual(
      genesis.validators.validators.map((v) => toHex(v.publicKey)).sort(),
      keys.sort(),
    );
    assert.deepEqual(parseGenesis(readFileSync(join(KEYS, '../genesis.json'), 'utf8')), genesis);
  });

  it('its bootstrap peer ids are those of the shipped p2p identities', () => {
    const ids = [0, 1, 2, 3].map((i) =>
      peerIdFromPrivateKey(
        privateKeyFromProtobuf(readFileSync(join(KEYS, `p2p-identity-${i}.key`))),
      ).toString(),
    );
    const boot = (values.network.bootstrap as string[]).map((a) => a.split('/p2p/')[1]);
    assert.deepEqual(boot, ids);
    const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true });
    for (let i = 0; i < 4; i++) {
      const env = compose.services[`validator-${i}`].environment;
      assert.equal(env.UTXOD_INDEX, String(i));
      const peers = String(env.UTXOD_BOOTSTRAP)
        .split(',')
        .map((a) => a.split('/p2p/')[1]);
      assert.deepEqual(
        peers,
        ids.filter((_, j) => j !== i),
        `validator-${i} dials the other three`,
      );
    }
  });

  it('compose runs each validator hardened as the chart does, with files that exist', () => {
    const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true });
    for (const [name, svc] of Object.entries(compose.services as Record<string, Obj>)) {
      for (const volume of (svc['volumes'] as string[] | undefined) ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) readdirOrFile(join(ROOT, source));
      }
      if (!name.startsWith('validator-')) continue;
      assert.equal(svc['read_only'], true, name);
      assert.deepEqual(svc['cap_drop'], ['ALL'], name);
      assert.equal(svc['user'], '10001:10001', name);
      for (const port of (svc['ports'] as string[] | undefined) ?? [])
        assert.ok(port.startsWith('127.0.0.1:'), `${name} publishes ${port} beyond loopback`);
    }
  });
});
