// Escrow between a buyer and a seller with an arbiter: any two of the three
// release the coins, but when the arbiter is one of the two, the coins may go
// only to the buyer or the seller (the arbiter cannot pay itself).
export function init(ctx, parties) {
  if (ctx.storage.has('parties')) throw new Error('already initialised');
  const { buyer, seller, arbiter, buyerLock, sellerLock } = parties;
  for (const key of [buyer, seller, arbiter, buyerLock, sellerLock]) {
    if (typeof key !== 'string' || (key.length !== 66 && key.length !== 64))
      throw new Error('bad party');
  }
  ctx.storage.set('parties', { buyer, seller, arbiter, buyerLock, sellerLock });
  return true;
}

export function spend(ctx) {
  const p = ctx.storage.get('parties');
  if (p === null) return false;
  const signed = (key) => ctx.tx.signers.includes(key);
  const count = [p.buyer, p.seller, p.arbiter].filter(signed).length;
  if (count < 2) return false;
  if (signed(p.buyer) && signed(p.seller)) return true;
  return ctx.tx.outputs.every((o) => o.lock.hash === p.buyerLock || o.lock.hash === p.sellerLock);
}
