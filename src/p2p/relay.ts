import type { Mempool } from '../mempool/mempool.ts';
import type { Transaction } from '../primitives/transaction.ts';

/**
 * The mempool as the API sees it: identical, except that a transaction it
 * admits (and any orphans that admission resolved) is also relayed to peers.
 * Gossip validation uses the plain mempool, so relayed transactions are never
 * published twice by this node.
 */
export function relayingMempool(
  mempool: Mempool,
  relay: { broadcastTransaction(tx: Transaction): Promise<void> },
): Mempool {
  const add: Mempool['add'] = async (tx) => {
    const result = await mempool.add(tx);
    if (result.status === 'accepted') {
      void relay.broadcastTransaction(tx);
      for (const resolved of result.resolvedOrphans) void relay.broadcastTransaction(resolved);
    }
    return result;
  };
  return new Proxy(mempool, {
    get(target, property) {
      if (property === 'add') return add;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
