/**
 * A Byzantine validator that exists only here, never in a node's
 * configuration (as test/integration/byzantine.test.ts does a double-signer):
 * the harness holds one validator's key, keeps a restored copy of an honest
 * node's chain following the network (blocks by range from a side's node),
 * builds two different valid blocks for the next height on it, and from one
 * bare libp2p peer per side of a partition publishes, for the round it
 * proposes, proposal A with its prevote and precommit for A to one side and
 * proposal B with votes for B to the other.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { assembleBlock } from '../../src/chain/index.ts';
import { type OfflineChain, openChainOffline } from '../../src/cli/offline.ts';
import { encodeProposal, encodeVote, NO_POL_ROUND } from '../../src/consensus/bft/index.ts';
import { type KeyPair, readKeyFile } from '../../src/crypto/key-file.ts';
import { sign } from '../../src/crypto/signer.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import { MAX_BLOCKS_PER_REQUEST } from '../../src/p2p/reqresp/protocols/limits.ts';
import { topicName } from '../../src/p2p/topics.ts';
import type { Block } from '../../src/primitives/index.ts';
import { proposalDigest, pubkeyLock, VoteType, voteDigest } from '../../src/primitives/index.ts';
import { toHex } from '../../src/util/index.ts';
import { createTestPeer, type TestPeer } from '../../test/support/test-peer.ts';
import { sleep } from './load.ts';

export interface Side {
  readonly name: string;
  /** libp2p addresses (`/ip4/.../p2p/ID`) of the honest nodes on this side. */
  readonly addresses: readonly string[];
}

export interface Equivocation {
  readonly side: string;
  readonly height: number;
  readonly round: number;
  readonly blockHash: string;
}

export class Equivocator {
  readonly key: KeyPair;
  readonly index: number;
  private readonly chainId: string;
  private readonly offline: OfflineChain;
  private readonly peers = new Map<string, TestPeer>();
  private readonly firstNode = new Map<string, string>();
  private readonly connectedTo = new Map<string, string[]>();
  /** This height's blocks by side; a new height starts a new map. */
  private blocks = new Map<string, Block>();
  private blocksHeight = -1;
  /** What was published, side by side: the evidence of the equivocation. */
  readonly sent: Equivocation[] = [];

  private constructor(offline: OfflineChain, key: KeyPair, index: number) {
    this.offline = offline;
    this.chainId = (
      JSON.parse(readFileSync(join(offline.config.datadir, 'genesis.json'), 'utf8')) as {
        chainId: string;
      }
    ).chainId;
    this.key = key;
    this.index = index;
  }

  /** The height it would propose now: one past its chain copy's tip. */
  get height(): number {
    return this.offline.chain.tipHeight + 1;
  }

  /**
   * `chainDatadir`: a stopped copy (a restored backup) of an honest node's
   * data at the halted tip; `keyDatadir`: the Byzantine validator's.
   */
  static async open(chainDatadir: string, keyDatadir: string): Promise<Equivocator> {
    const key = readKeyFile(join(keyDatadir, 'keys', 'validator.json'));
    const offline = await openChainOffline(chainDatadir, silentLogger());
    const index = offline.chain.validatorsAt(offline.chain.tipHeight + 1).indexOf(key.publicKey);
    if (index < 0) {
      await offline.close();
      throw new Error('the Byzantine key is not in the validator set');
    }
    return new Equivocator(offline, key, index);
  }

  get publicKeyHex(): string {
    return toHex(this.key.publicKey);
  }

  /** One bare peer per side, dialled only to that side's nodes, subscribed to the chain's topics. */
  async connect(sides: readonly Side[]): Promise<void> {
    const chain = this.offline.chain;
    for (const side of sides) {
      // On a loaded machine a dial to a node sometimes stalls in the Noise
      // handshake until it times out, and the dial queue holds on to it: each
      // round takes a fresh peer, and one connected node per side is enough
      // (gossip carries the messages on to the others on its side).
      let peer: TestPeer | null = null;
      let connected: string[] = [];
      for (let round = 1; connected.length === 0; round++) {
        await peer?.close();
        peer = await createTestPeer({
          status: {
            protocolVersion: P2P_PROTOCOL_VERSION,
            chainId: this.chainId,
            genesisHash: chain.genesisHash,
            earliestHeight: 0,
            tipHeight: 0,
            tipHash: chain.genesisHash,
          },
          subscribe: true,
          dialTimeoutMs: 45_000,
        });
        const p = peer;
        const results = await Promise.allSettled(
          side.addresses.map(async (address) => {
            await p.libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(45_000) });
            await p.reqResp.getStatus(peerIdOf(address));
            return peerIdOf(address);
          }),
        );
        connected = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        if (connected.length === 0 && round >= 4) {
          await peer.close();
          const first = results.find((r) => r.status === 'rejected');
          throw first?.status === 'rejected' ? first.reason : new Error('no node connected');
        }
      }
      if (peer === null) throw new Error('unreachable: no peer');
      this.peers.set(side.name, peer);
      this.firstNode.set(side.name, connected[0]!);
      this.connectedTo.set(side.name, connected);
      // Publishing needs the nodes to know this peer subscribes (gossipsub's mesh).
      const topic = topicName(this.chainId, 'proposal');
      for (let i = 0; i < 100; i++) {
        const subscribed = peer.libp2p.services.pubsub.getSubscribers(topic).map(String);
        if (connected.every((id) => subscribed.includes(id))) break;
        await sleep(100);
      }
    }
  }

  /** Which nodes (peer ids) each side's peer is connected to. */
  connections(side: string): readonly string[] {
    return this.connectedTo.get(side) ?? [];
  }

  /**
   * Connects the blocks `side`'s first node holds up to `height` (each with
   * its commit, every rule checked) to the chain copy, so the next proposal
   * builds on the network's tip. Returns the copy's tip.
   */
  async follow(side: string, height: number): Promise<number> {
    const peer = this.peers.get(side);
    const node = this.firstNode.get(side);
    if (peer === undefined || node === undefined) throw new Error(`no peer for side ${side}`);
    const chain = this.offline.chain;
    while (chain.tipHeight < height) {
      const count = Math.min(MAX_BLOCKS_PER_REQUEST, height - chain.tipHeight);
      const items = await peer.reqResp.getBlocksByRange(node, chain.tipHeight + 1, count, {
        timeoutMs: 10_000,
      });
      if (items.length === 0) break;
      for (const { block, commit } of items) await chain.connectBlock(block, commit);
    }
    return chain.tipHeight;
  }

  /**
   * A valid block for the height, different per side: the same empty body
   * with a time that differs by the side's position, so each side's proposal
   * passes every rule but the two hashes differ.
   */
  private async blockFor(side: string, position: number): Promise<Block> {
    if (this.blocksHeight !== this.height) {
      this.blocks = new Map();
      this.blocksHeight = this.height;
    }
    const held = this.blocks.get(side);
    if (held !== undefined) return held;
    const block = await assembleBlock(this.offline.chain, {
      txs: [],
      proposer: this.key.publicKey,
      rewardLock: pubkeyLock(this.key.publicKey),
      time: Date.now() + position,
    });
    this.blocks.set(side, block);
    return block;
  }

  /** Publishes this side's proposal for (height, round) and the Byzantine prevote and precommit for it. */
  async equivocate(side: string, position: number, round: number): Promise<Equivocation> {
    const peer = this.peers.get(side);
    if (peer === undefined) throw new Error(`no peer for side ${side}`);
    const block = await this.blockFor(side, position);
    const chainIdHash = this.offline.chain.chainIdHash;
    const pubsub = peer.libp2p.services.pubsub;
    const proposal = encodeProposal({
      height: this.height,
      round,
      polRound: NO_POL_ROUND,
      block,
      proposerIndex: this.index,
      signature: sign(
        proposalDigest(chainIdHash, this.height, round, NO_POL_ROUND, block.hash),
        this.key.privateKey,
      ),
    });
    await pubsub.publish(topicName(this.chainId, 'proposal'), proposal);
    for (const type of [VoteType.prevote, VoteType.precommit] as const) {
      const vote = encodeVote({
        type,
        height: this.height,
        round,
        blockHash: block.hash,
        validatorIndex: this.index,
        signature: sign(
          voteDigest(chainIdHash, type, this.height, round, block.hash),
          this.key.privateKey,
        ),
      });
      await pubsub.publish(topicName(this.chainId, 'vote'), vote);
    }
    const sent = { side, height: this.height, round, blockHash: toHex(block.hash) };
    this.sent.push(sent);
    return sent;
  }

  blockHash(side: string): string | null {
    const block = this.blocks.get(side);
    return block === undefined ? null : toHex(block.hash);
  }

  async close(): Promise<void> {
    for (const peer of this.peers.values()) await peer.close();
    this.peers.clear();
    await this.offline.close();
  }
}

function peerIdOf(address: string): string {
  const id = address.split('/p2p/')[1];
  if (id === undefined || id === '') throw new Error(`no peer id in ${address}`);
  return id;
}
