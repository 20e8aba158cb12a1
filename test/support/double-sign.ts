/**
 * The test-only double signer: a validator's prevote for the height in
 * progress, signed with a key the test holds and published from a bare
 * libp2p peer. Nothing in the node can produce two of these for one height.
 */
import { encodeVote } from '../../src/consensus/bft/messages.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { sign } from '../../src/crypto/signer.ts';
import { VoteType, voteDigest } from '../../src/primitives/commit.ts';

/** An encoded round-0 prevote of validator `index` (holding `key`) for a block hash of `fill` bytes. */
export function signedPrevote(
  chainHash: Uint8Array,
  key: KeyPair,
  index: number,
  height: number,
  fill: number,
): Uint8Array {
  const blockHash = new Uint8Array(32).fill(fill);
  return encodeVote({
    type: VoteType.prevote,
    height,
    round: 0,
    blockHash,
    validatorIndex: index,
    signature: sign(voteDigest(chainHash, VoteType.prevote, height, 0, blockHash), key.privateKey),
  });
}
