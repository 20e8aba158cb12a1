import { Tag, taggedHash } from '../crypto/index.ts';
import { HASH_SIZE } from './limits.ts';

/**
 * Merkle root over transaction wtxids. Leaves and inner nodes are hashed under
 * different tags and an odd node is carried up unchanged (never duplicated), so
 * no two different transaction lists share a root: Bitcoin's duplicate-leaf
 * ambiguity (CVE-2012-2459) cannot arise. An empty list has the all-zero root.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(HASH_SIZE);
  let level = leaves.map((leaf) => taggedHash(Tag.merkleLeaf, leaf));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      next.push(right === undefined ? level[i]! : taggedHash(Tag.merkleNode, level[i]!, right));
    }
    level = next;
  }
  return level[0]!;
}
