import { Command, CommanderError } from 'commander';
import { UtxodError } from '../util/index.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBalance } from './commands/balance.ts';
import { registerInit } from './commands/init.ts';
import { registerKeys } from './commands/keys.ts';
import { registerPeers } from './commands/peers.ts';
import { registerRollback } from './commands/rollback.ts';
import { registerSend } from './commands/send.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerToken } from './commands/token.ts';
import { registerTx } from './commands/tx.ts';
import { registerVerifyChain } from './commands/verify-chain.ts';

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
registerTx(program);
registerStatus(program);
registerToken(program);
registerAudit(program);

// `utxod ... | head`: a closed pipe ends the command quietly instead of crashing it.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const code = error instanceof UtxodError ? ` [${error.code}]` : '';
  process.stderr.write(`utxod: error${code}: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
}
