// Linear vesting: `total` base units unlock evenly from height `start` over
// `duration` blocks. The beneficiary may spend the coin at any time, as long as
// the unvested remainder goes back to this contract.
export function init(ctx, beneficiary, total, start, duration) {
  if (ctx.storage.has('beneficiary')) throw new Error('already initialised');
  if (typeof total !== 'bigint' || total <= 0n) throw new Error('total must be a positive bigint');
  if (!Number.isInteger(start) || !Number.isInteger(duration) || duration < 1)
    throw new Error('bad schedule');
  ctx.storage.set('beneficiary', beneficiary);
  ctx.storage.set('schedule', { total, start, duration });
  return true;
}

export function vested(ctx, height) {
  const { total, start, duration } = ctx.storage.get('schedule');
  if (height <= start) return 0n;
  if (height >= start + duration) return total;
  return (total * BigInt(height - start)) / BigInt(duration);
}

export function spend(ctx) {
  if (!ctx.tx.signers.includes(ctx.storage.get('beneficiary'))) return false;
  const { total } = ctx.storage.get('schedule');
  const unvested = total - vested(ctx, ctx.height);
  let returned = 0n;
  for (const output of ctx.tx.outputs) {
    if (output.lock.type === 'contract' && output.lock.hash === ctx.contract)
      returned += output.amount;
  }
  return returned >= unvested;
}
