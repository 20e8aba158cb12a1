/**
 * docs/openapi.json as a wallet developer's client generator reads it: every
 * operation named and secured (public or the bearer scheme with the least
 * role), every error in the one error shape, every tag described.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

type Operation = {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  tags?: string[];
};

const doc = JSON.parse(
  readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
) as {
  paths: Record<string, Record<string, Operation>>;
  tags: Array<{ name: string; description?: string }>;
  components: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

describe('openapi for client generators', () => {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ where: `${method} ${path}`, op })),
  );

  it('declares the bearer scheme and every tag with a description', () => {
    assert.deepEqual(
      {
        type: doc.components.securitySchemes?.['bearerAuth']?.type,
        scheme: doc.components.securitySchemes?.['bearerAuth']?.scheme,
      },
      { type: 'http', scheme: 'bearer' },
    );
    for (const tag of doc.tags) assert.ok((tag.description ?? '') !== '', `tag ${tag.name}`);
  });

  it('names and secures every operation, with unique operationIds', () => {
    const ids = new Set<string>();
    for (const { where, op } of operations) {
      assert.ok(op.operationId !== undefined, `${where}: operationId`);
      assert.ok(!ids.has(op.operationId), `${where}: duplicate ${op.operationId}`);
      ids.add(op.operationId);
      assert.ok(Array.isArray(op.security), `${where}: security`);
      const scopes = op.security.flatMap((s) => s['bearerAuth'] ?? []);
      if (op.security.length > 0)
        assert.ok(['reader', 'operator', 'admin'].includes(scopes[0]!), `${where}: role scope`);
    }
    assert.ok(
      operations.some(({ op }) => op.security?.length === 0),
      'public routes say so',
    );
  });

  it('documents 401/403 on secured routes and 429 everywhere, in the error shape', () => {
    for (const { where, op } of operations) {
      if (op.responses === undefined || where.includes('/docs')) continue;
      const statuses = op.security?.length === 0 ? ['429'] : ['401', '403', '429'];
      for (const status of statuses) {
        const schema = op.responses[status]?.content?.['application/json']?.schema;
        assert.match(schema?.$ref ?? '', /ApiError/, `${where}: ${status}`);
      }
    }
  });
});
