/**
 * Operators manage peers of a running node through the admin API: list the
 * connected peers, ban one (it is disconnected and stays refused), unban it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeProcess, runUtxod } from '../support/node-process.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-peer-admin-'));
const started: NodeProcess[] = [];

function start(dir: string, args: string[] = []): NodeProcess {
  const node = NodeProcess.start(dir, [
    '--p2p-host',
    '127.0.0.1',
    '--block-interval',
    '200',
    ...args,
  ]);
  started.push(node);
  return node;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('peer administration over the API', { timeout: 90_000 }, () => {
  after(() => {
    for (const node of started) node.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('lists, bans and unbans peers; needs the admin role', async () => {
    const producerDir = join(root, 'producer');
    const followerDir = join(root, 'follower');
    assert.equal(runUtxod(['init', '--datadir', producerDir]).status, 0);
    assert.equal(
      runUtxod(['init', '--datadir', followerDir, '--genesis', join(producerDir, 'genesis.json')])
        .status,
      0,
    );
    const producer = start(producerDir);
    const producerAddr = await producer.listenAddr();
    const producerId = producerAddr.split('/p2p/')[1]!;
    const follower = start(followerDir, ['--bootstrap', producerAddr]);
    const url = await follower.url();

    const token = (role: string) => {
      const issued = runUtxod([
        'token',
        'issue',
        '--role',
        role,
        '--ttl',
        '10m',
        '--datadir',
        followerDir,
      ]);
      assert.equal(issued.status, 0, issued.stderr);
      return issued.stdout.trim();
    };
    const admin = { authorization: `Bearer ${token('admin')}` };
    const call = async (
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: unknown,
    ) => {
      const response = await fetch(`${url}${path}`, {
        method,
        ...(body === undefined
          ? { headers }
          : {
              headers: { ...headers, 'content-type': 'application/json' },
              body: JSON.stringify(body),
            }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const reader = await call('GET', '/api/v1/admin/peers', {
      authorization: `Bearer ${token('reader')}`,
    });
    assert.equal(reader.status, 403);

    const listed = await until('the producer in the peer list', async () => {
      const { body } = await call('GET', '/api/v1/admin/peers', admin);
      const peers = body['peers'] as Array<{ peerId: string; status: unknown }>;
      return peers.find((p) => p.peerId === producerId && p.status !== null);
    });
    assert.equal(listed.peerId, producerId);

    const banned = await call('POST', `/api/v1/admin/peers/${producerId}/ban`, admin, {
      durationMs: 60_000,
      reason: 'test',
    });
    assert.equal(banned.status, 200, JSON.stringify(banned.body));
    assert.equal(banned.body['reason'], 'test');
    await until('the producer to be disconnected', async () => {
      const { body } = await call('GET', '/api/v1/admin/peers', admin);
      return (body['peers'] as Array<{ peerId: string }>).some((p) => p.peerId === producerId)
        ? undefined
        : true;
    });
    const bans = await call('GET', '/api/v1/admin/peers/bans', admin);
    assert.deepEqual(
      (bans.body['bans'] as Array<{ peerId: string }>).map((b) => b.peerId),
      [producerId],
    );

    const bad = await call('POST', '/api/v1/admin/peers/not-a-peer/ban', admin, {});
    assert.equal(bad.status, 400);

    const unbanned = await call('DELETE', `/api/v1/admin/peers/${producerId}/ban`, admin);
    assert.deepEqual(unbanned.body, { unbanned: true });
    assert.deepEqual((await call('GET', '/api/v1/admin/peers/bans', admin)).body, { bans: [] });

    const audit = await call('GET', '/api/v1/admin/audit', admin);
    assert.match(JSON.stringify(audit.body), /peer\.ban/);
  });
});
