import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../../../encoding/errors.ts';
import type { VoteMessage } from '../../consensus-messages.ts';
import {
  type ConsensusCatchupSource,
  consensusVotesHandler,
  consensusVotesProtocol,
  proposalByHashHandler,
  proposalByHashProtocol,
} from './consensus-catchup.ts';

const vote: VoteMessage = {
  type: 2,
  height: 5,
  round: 1,
  blockHash: new Uint8Array(32).fill(3),
  validatorIndex: 1,
  signature: new Uint8Array(64).fill(4),
};

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('consensus catch-up protocols', () => {
  it('decode requests and items strictly, within their size bounds', () => {
    const req = consensusVotesProtocol.encodeRequest({ height: 5, round: 1 });
    assert.deepEqual(consensusVotesProtocol.decodeRequest(req), { height: 5, round: 1 });
    assert.throws(() => consensusVotesProtocol.decodeRequest(new Uint8Array(9)), DecodeError);
    assert.throws(() => consensusVotesProtocol.decodeRequest(new Uint8Array(7)), DecodeError);
    const item = consensusVotesProtocol.encodeItem(vote);
    assert.equal(item.length, consensusVotesProtocol.maxItemBytes);
    assert.deepEqual(consensusVotesProtocol.decodeItem(item), vote);
    assert.throws(() => consensusVotesProtocol.decodeItem(Uint8Array.of(...item, 0)), DecodeError);
    assert.throws(() => proposalByHashProtocol.decodeRequest(new Uint8Array(31)), DecodeError);
  });

  it('serve what the engine holds, nothing when there is no engine', async () => {
    const source: ConsensusCatchupSource = {
      votesAt: (h, r) => (h === 5 && r === 1 ? [vote] : []),
      proposalByHash: () => null,
    };
    const votes = consensusVotesHandler(() => source);
    assert.deepEqual(await collect(votes({ height: 5, round: 1 }, 'p', undefined as never)), [
      vote,
    ]);
    assert.deepEqual(await collect(votes({ height: 6, round: 1 }, 'p', undefined as never)), []);
    const none = consensusVotesHandler(() => null);
    assert.deepEqual(await collect(none({ height: 5, round: 1 }, 'p', undefined as never)), []);
    const proposals = proposalByHashHandler(() => source);
    assert.deepEqual(await collect(proposals(new Uint8Array(32), 'p', undefined as never)), []);
  });
});
