import { Command, CommanderError } from 'commander';
import { UtxodError } from '../util/index.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBalance } from './commands/balance.ts';
import { registerInit } from './commands/init.ts';
import { registerKeys } from './commands/keys.ts';
import { registerPeers } from './commands/peers.ts';
import { registerRollback } from './commands/rollback.ts';
import { registerSend } from './commands/send.ts';
import { registerStake } from './commands/stake.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerTestnet } from './commands/testnet.ts';
import { registerToken } from './commands/token.ts';
import { registerTx } from './commands/tx.ts';
import { registerVerifyChain } from './commands/verify-chain.ts';

// Command modules import only commander and ./shared.ts at the top; each action
// loads what it needs when it runs, so `utxod --help` or a typo answers at once.
const program = new Command()
  .name('utxod')
  .description('utxod: a UTXO blockchain full node')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerInit(program);
registerStart(program);
registerVerifyChain(program);
registerRollback(program);
registerKeys(program);
registerPeers(program);
registerBalance(program);
registerSend(program);
registerStake(program);
registerTx(program);
registerStatus(program);
registerToken(program);
registerAudit(program);
registerTestnet(program);

// `utxod ... | head`: a closed pipe ends the command quietly instead of crashing it.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`${describeFailure(error)}\n`);
  process.exit(1);
}

/**
 * A user mistake is one line naming what to change; only an unexpected fault
 * (not a UtxodError) carries its stack, and then only with UTXOD_DEBUG=1.
 */
function describeFailure(error: unknown): string {
  if (error instanceof UtxodError) return `utxod: error [${error.code}]: ${error.message}`;
  const err = error instanceof Error ? error : new Error(String(error));
  const line = `utxod: error: ${err.message}`;
  if (process.env['UTXOD_DEBUG'] === '1' && err.stack !== undefined) return `${line}\n${err.stack}`;
  return `${line}\n(an unexpected failure: UTXOD_DEBUG=1 shows where it happened)`;
}
