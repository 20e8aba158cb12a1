/**
 * The node's libp2p identity: an Ed25519 key stored as libp2p protobuf in a
 * 0600 file in the data directory, so the peer id survives restarts.
 */

import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { writeFileAtomicSync } from '../util/node.ts';
import { P2PError } from './errors.ts';

/** Protobuf-encoded Ed25519 keys are 68 bytes; anything much larger is not ours. */
const MAX_IDENTITY_FILE_BYTES = 4096;

export async function loadOrCreatePeerKey(
  path: string,
): Promise<{ key: PrivateKey; created: boolean }> {
  if (existsSync(path)) {
    const size = statSync(path).size;
    if (size > MAX_IDENTITY_FILE_BYTES) {
      throw new P2PError('P2P_IDENTITY_FILE', `${path} is ${size} bytes: not a peer key`);
    }
    try {
      const key = privateKeyFromProtobuf(new Uint8Array(readFileSync(path)));
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
      return { key, created: false };
    } catch (error) {
      throw new P2PError(
        'P2P_IDENTITY_FILE',
        `${path} does not hold a libp2p private key`,
        { path },
        {
          cause: error,
        },
      );
    }
  }
  const key = await generateKeyPair('Ed25519');
  writeFileAtomicSync(path, privateKeyToProtobuf(key), 0o600);
  return { key, created: true };
}

/** The peer id of the identity key at `path`, creating the key if there is none. */
export async function peerIdentity(path: string): Promise<string> {
  const { key } = await loadOrCreatePeerKey(path);
  return peerIdFromPrivateKey(key).toString();
}
