/**
 * What an operator pages on for their own validator: whether its key is in
 * the set that signs the next block, whether it is jailed or tombstoned, and
 * how many blocks it missed in the liveness window. Read from the staking
 * registry after every committed block (an observer: never on the consensus
 * path, and a failed read only leaves the gauges as they were).
 */
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { BlockImporter, Chain } from '../chain/index.ts';
import type { StakingQueriesFromState } from '../consensus/index.ts';
import { asError } from '../util/index.ts';

export interface OwnValidatorModules {
  readonly chain: Chain;
  readonly importer: BlockImporter;
  readonly staking: Pick<StakingQueriesFromState, 'validatorByConsensusKey'>;
  readonly registry: Registry;
  readonly logger: Logger;
}

/** Starts watching; returns the function that stops it (for the node's close list). */
export function watchOwnValidator(
  opts: { readonly consensusKey: Uint8Array },
  modules: OwnValidatorModules,
): () => void {
  const { chain, importer, staking, registry, logger } = modules;
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
  const inSet = gauge(
    'utxod_validator_in_set',
    "1 while this node's validator key is in the set that signs the next block",
  );
  const jailed = gauge('utxod_validator_jailed', '1 while this validator is jailed for downtime');
  const tombstoned = gauge(
    'utxod_validator_tombstoned',
    '1 once this validator was slashed for double signing (for good)',
  );
  const missed = gauge(
    'utxod_validator_missed_blocks',
    'Blocks this validator missed in its current liveness window',
  );
  let reading = false;
  const update = async () => {
    if (reading) return; // the next block reads again
    reading = true;
    try {
      const next = chain.validatorsAt(chain.tipHeight + 1);
      inSet.set(next.indexOf(opts.consensusKey) === -1 ? 0 : 1);
      const me = await staking.validatorByConsensusKey(opts.consensusKey);
      jailed.set(me !== undefined && me.jailedUntilMs > 0 ? 1 : 0);
      tombstoned.set(me?.tombstoned === true ? 1 : 0);
      missed.set(me?.missedBlocks ?? 0);
    } catch (error) {
      logger.warn({ err: asError(error) }, 'could not read this validator from the staking state');
    } finally {
      reading = false;
    }
  };
  const onBlock = () => void update();
  importer.events.on('block', onBlock);
  void update();
  return () => {
    importer.events.off('block', onBlock);
  };
}
