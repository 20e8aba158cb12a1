// A vault: the owner withdraws only `delay` blocks after announcing it, and a
// recovery key can sweep at any time (to claw back coins after a key theft).
export function init(ctx, owner, recovery, delay) {
  if (ctx.storage.has('owner')) throw new Error('already initialised');
  if (!Number.isInteger(delay) || delay < 1 || delay > 100000) throw new Error('bad delay');
  ctx.storage.set('owner', owner);
  ctx.storage.set('recovery', recovery);
  ctx.storage.set('delay', delay);
  return true;
}

export function announce(ctx) {
  if (ctx.caller !== ctx.storage.get('owner')) throw new Error('only the owner announces');
  ctx.storage.set('announced', ctx.height);
  ctx.emit('announced', { height: ctx.height });
  return ctx.height + ctx.storage.get('delay');
}

export function cancel(ctx) {
  if (ctx.caller !== ctx.storage.get('recovery')) throw new Error('only the recovery key cancels');
  ctx.storage.delete('announced');
  return true;
}

export function spend(ctx) {
  if (ctx.tx.signers.includes(ctx.storage.get('recovery'))) return true;
  const announced = ctx.storage.get('announced');
  if (announced === null || !ctx.tx.signers.includes(ctx.storage.get('owner'))) return false;
  return ctx.height >= announced + ctx.storage.get('delay');
}
