// k-of-n multisig: coins locked to this contract move only when at least
// `threshold` of the owners signed the spending transaction.
export function init(ctx, owners, threshold) {
  if (ctx.storage.has('owners')) throw new Error('already initialised');
  if (!Array.isArray(owners) || owners.length === 0 || owners.length > 20)
    throw new Error('1 to 20 owners');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > owners.length)
    throw new Error('bad threshold');
  ctx.storage.set('owners', owners);
  ctx.storage.set('threshold', threshold);
  ctx.emit('initialised', { owners, threshold });
  return true;
}

export function spend(ctx) {
  const owners = ctx.storage.get('owners') ?? [];
  const threshold = ctx.storage.get('threshold') ?? Infinity;
  let signed = 0;
  for (const owner of owners) {
    if (ctx.tx.signers.includes(owner)) signed++;
  }
  return signed >= threshold;
}
