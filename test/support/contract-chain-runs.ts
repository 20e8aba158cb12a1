/**
 * A fixed sequence of contract blocks on a real chain (deploy, lock, call,
 * contract-locked spend, failed call), one line per block: hash, stateRoot,
 * utxoRoot, gas used. Run as a script it prints the lines, so a test can
 * compare two processes (test/contracts/chain.test.ts).
 */
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { toHex } from '../../src/util/bytes.ts';
import { args, build, callTx, gateWithCoin } from './contract-rule-chain.ts';
import { bob, withRuleChain } from './rule-fixture.ts';

export async function chainRuns(): Promise<string[]> {
  const lines: string[] = [];
  await withRuleChain(async (r) => {
    const line = async () => {
      const block = await r.chain.requireBlockAt(r.chain.tipHeight);
      const { header } = block;
      lines.push(
        `${header.height} ${toHex(block.hash)} ${toHex(header.stateRoot)} ${toHex(header.utxoRoot)}`,
      );
    };
    const { id, locked, funds } = await gateWithCoin(r);
    await line();
    const open = callTx(r, funds, id, 'setOpen', args(true));
    await r.connect([open]);
    await line();
    const toBob = [{ amount: locked.output.amount - 200_000n, lock: pubkeyLock(bob.publicKey) }];
    await r.connect([build(r, [locked], toBob)]);
    await line();
    const change = {
      outpoint: { txid: open.txid, index: 0 },
      output: open.outputs[0]!,
      key: funds.key,
    };
    await r.connect([callTx(r, change, id, 'failAfterWrite', args())]);
    await line();
  });
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  process.stdout.write(`${(await chainRuns()).join('\n')}\n`);
}
