import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { silentLogger } from '../../logger/index.ts';
import type { StatusMessage } from '../messages.ts';
import { Penalty } from '../scoring.ts';
import type { PeerInfo } from './network.ts';
import { PeerTable } from './peer-table.ts';

const TIP = { height: 10, hash: new Uint8Array(32).fill(10) };

function status(height: number): StatusMessage {
  return {
    protocolVersion: 1,
    chainId: 'utxod-test',
    genesisHash: new Uint8Array(32),
    tipHeight: height,
    tipHash: new Uint8Array(32).fill(height % 256),
    earliestHeight: 0,
  };
}

/** A peer on its own host unless `ip` puts several on one. */
function info(peerId: string, height: number, ip?: string): PeerInfo {
  const remoteAddr = ip === undefined ? `/dns4/${peerId}.example/tcp/4000` : `/ip4/${ip}/tcp/4000`;
  return { peerId, status: status(height), direction: 'inbound', remoteAddr, score: 0 };
}

function table(opts: { statusMaxAgeMs?: number; minAgreeingPeers?: number } = {}) {
  const clock = new ManualClock();
  const reports: Array<{ peerId: string; penalty: number; reason: string }> = [];
  const asked: string[] = [];
  const cutOff: string[] = [];
  const t = new PeerTable(
    {
      statusTimeoutMs: 1_000,
      statusMaxAgeMs: opts.statusMaxAgeMs ?? 5_000,
      peerCooldownMs: 100,
      minAgreeingPeers: opts.minAgreeingPeers ?? 2,
    },
    {
      source: {
        reportPeer: (peerId, penalty, reason) => reports.push({ peerId, penalty, reason }),
      },
      client: {
        getStatus: async (peerId) => {
          asked.push(peerId);
          return status(50);
        },
      },
      logger: silentLogger(),
      metrics: null,
      clock,
      tip: () => TIP,
      onChange: () => undefined,
      onCutOff: (peerId) => cutOff.push(peerId),
    },
  );
  return { t, clock, reports, asked, cutOff };
}

describe('PeerTable', () => {
  it('takes the handshake status as the first claim and asks again only once it is stale', async () => {
    const { t, clock, asked } = table();
    t.add(info('a', 20));
    assert.equal(t.get('a')!.height, 20);
    assert.deepEqual(asked, []);
    clock.advance(5_000);
    t.refreshStatuses();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(asked, ['a']);
    assert.equal(t.get('a')!.height, 50);
  });

  it('trusts proven heights, agreed claims and backed peers, never a lone claim', () => {
    const { t } = table();
    t.add(info('liar', 1_000));
    assert.equal(t.claimedTarget(TIP.height), 1_000);
    assert.equal(t.trustedTarget(TIP.height), TIP.height, 'a lone claim is not a target');
    t.add(info('b', 30));
    assert.equal(t.trustedTarget(TIP.height), 30, 'two peers agree on 30');
    t.add(info('c', 40));
    t.served(t.get('c')!, 25, 15, 100);
    assert.equal(t.trustedTarget(TIP.height), 40, 'c backed its claim with valid blocks');
    t.remove('c');
    assert.equal(
      t.trustedTarget(TIP.height),
      30,
      'what c proved (25) stays; b and liar agree on 30',
    );
    // A refuted peer stops counting towards agreement.
    t.refute(t.get('liar')!, 11, 'SYNC_UNBACKED_CLAIM', 'no blocks from 11');
    t.acceptStatus(t.get('liar')!, status(1_000));
    assert.equal(t.trustedTarget(TIP.height), 25);
  });

  it('counts agreement by host: identities on one host are one voice', () => {
    const { t } = table();
    t.add(info('sybil-1', 1_000, '10.9.9.9'));
    t.add(info('sybil-2', 1_000, '10.9.9.9'));
    t.add(info('sybil-3', 1_000, '10.9.9.9'));
    assert.equal(t.trustedTarget(TIP.height), TIP.height);
    t.add(info('other', 1_000, '10.8.8.8'));
    assert.equal(t.trustedTarget(TIP.height), 1_000, 'two hosts agree');
  });

  it('doubles the penalty with each refutation and cuts the peer off at the ban', () => {
    const { t, reports, cutOff } = table();
    t.add(info('liar', 1_000));
    const ps = t.get('liar')!;
    for (let i = 0; i < 4; i++) {
      t.acceptStatus(ps, status(1_000));
      t.refute(ps, 11, 'SYNC_UNBACKED_CLAIM', 'no blocks from 11');
      assert.equal(ps.height, 10, 'the refuted claim is dropped');
    }
    assert.deepEqual(
      reports.map((r) => r.penalty),
      [1, 2, 4, 8].map((k) => Penalty.unbackedClaim * k),
    );
    assert.ok(reports.every((r) => r.reason.startsWith('SYNC_UNBACKED_CLAIM: ')));
    t.refute(ps, 11, 'SYNC_UNBACKED_CLAIM', 'again');
    assert.equal(reports.at(-1)!.penalty, 100);
    assert.equal(ps.misbehaved, true);
    assert.deepEqual(cutOff, ['liar']);
  });

  it('penalises a status that names another block at our tip height', () => {
    const { t, reports } = table();
    t.add({ ...info('fork', 10), status: { ...status(10), tipHash: new Uint8Array(32).fill(9) } });
    assert.equal(reports[0]?.penalty, Penalty.violation);
    assert.match(reports[0]!.reason, /^SYNC_STATUS_FORK/);
    assert.equal(t.usable().length, 0);
  });
});
