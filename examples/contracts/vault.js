// A vault: the owner withdraws only `delay` blocks after announcing it, and a
// recovery key can sweep at any time (to claw back coins after a key theft).
// Each party is given as { key, address }: `spend` sees who signed by public
// key (ctx.tx.signers), announce and cancel see who called by address
// (ctx.caller), and a contract cannot derive one from the other.
function party(p) {
  if (p === null || typeof p !== 'object' || typeof p.key !== 'string' || p.key.length !== 66)
    throw new Error('a party is { key: 66 hex characters, address }');
  if (typeof p.address !== 'string' || p.address.length === 0 || p.address.length > 100)
    throw new Error('a party needs its address');
  return { key: p.key, address: p.address };
}

export function init(ctx, owner, recovery, delay) {
  if (ctx.storage.has('owner')) throw new Error('already initialised');
  if (!Number.isInteger(delay) || delay < 1 || delay > 100000) throw new Error('bad delay');
  ctx.storage.set('owner', party(owner));
  ctx.storage.set('recovery', party(recovery));
  ctx.storage.set('delay', delay);
  return true;
}

export function announce(ctx) {
  if (ctx.caller !== ctx.storage.get('owner').address) throw new Error('only the owner announces');
  ctx.storage.set('announced', ctx.height);
  ctx.emit('announced', { height: ctx.height });
  return ctx.height + ctx.storage.get('delay');
}

export function cancel(ctx) {
  if (ctx.caller !== ctx.storage.get('recovery').address)
    throw new Error('only the recovery key cancels');
  ctx.storage.delete('announced');
  return true;
}

export function spend(ctx) {
  const owner = ctx.storage.get('owner');
  const recovery = ctx.storage.get('recovery');
  if (owner === null || recovery === null) return false;
  if (ctx.tx.signers.includes(recovery.key)) return true;
  const announced = ctx.storage.get('announced');
  if (announced === null || !ctx.tx.signers.includes(owner.key)) return false;
  return ctx.height >= announced + ctx.storage.get('delay');
}
