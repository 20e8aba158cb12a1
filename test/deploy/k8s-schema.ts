/**
 * Validates Kubernetes objects against the published OpenAPI schemas that the
 * `kubernetes-models` packages compile (core 1.34, Argo CD, Prometheus operator,
 * External Secrets), and also fails on fields those schemas do not know: the
 * compiled validators ignore unknown fields, so each object is validated
 * through a Proxy that records which properties the validator looks up, and any
 * own key of a schema-checked object that was never looked up is unknown.
 */

interface ModelClass {
  prototype: { validate(this: unknown): void };
}

const PACKAGES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'argoproj.io/v1alpha1': '@kubernetes-models/argo-cd/argoproj.io/v1alpha1',
  'external-secrets.io/v1': '@kubernetes-models/external-secrets/external-secrets.io/v1',
};

export function hasSchema(apiVersion: string): boolean {
  return apiVersion in PACKAGES;
}

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const pkg = PACKAGES[apiVersion];
  if (pkg === undefined) throw new Error(`no schema package for apiVersion ${apiVersion}`);
  const mod = (await import(`${pkg}/${kind}`)) as Record<string, ModelClass | undefined>;
  const model = mod[kind];
  if (model === undefined) throw new Error(`${pkg} has no kind ${kind}`);
  return model;
}

interface Seen {
  readonly read: Set<PropertyKey>;
  iterated: boolean;
}

function track(root: unknown): { proxy: unknown; seen: Map<object, Seen> } {
  const seen = new Map<object, Seen>();
  const proxies = new Map<object, unknown>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const cached = proxies.get(value);
    if (cached !== undefined) return cached;
    const info: Seen = { read: new Set(), iterated: false };
    seen.set(value, info);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string') info.read.add(key);
        return wrap(Reflect.get(target, key, receiver));
      },
      ownKeys(target) {
        info.iterated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  return { proxy: wrap(root), seen };
}

function unknownFields(root: unknown, seen: Map<object, Seen>): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        walk(item, `${path}[${i}]`);
      });
      return;
    }
    const info = seen.get(value);
    // Never looked into: a free-form field (x-kubernetes-preserve-unknown-fields).
    const checked = info !== undefined && !info.iterated && info.read.size > 0;
    for (const [key, child] of Object.entries(value)) {
      if (checked && !info.read.has(key)) found.push(`${path}.${key}`);
      walk(child, `${path}.${key}`);
    }
  };
  walk(root, '');
  return found;
}

/** Errors of one object: schema violations and unknown fields, as readable strings. */
export async function validateObject(obj: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(obj['apiVersion']);
  const kind = String(obj['kind']);
  const model = await modelFor(apiVersion, kind);
  const { proxy, seen } = track(structuredClone(obj));
  const errors: string[] = [];
  try {
    model.prototype.validate.call(proxy);
  } catch (error) {
    errors.push((error as Error).message);
  }
  // The proxy wrapped a clone: walk that same clone, found through the proxy's root.
  const root = [...seen.keys()][0];
  for (const path of unknownFields(root, seen)) errors.push(`unknown field ${path}`);
  return errors;
}
