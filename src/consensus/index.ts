// The consensus face: other folders import consensus rules through this file
// (params, errors with penalties, tx rules, signatures, validator set). The
// engine interfaces and the validator signer sit in the consensus-engine layer above chain and mempool (.dependency-cruiser.mjs):
// re-exporting them here would make every rule import an upward one, so they
// get their own face with the BFT engine (consensus/bft/index.ts).
export * from './errors.ts';
export * from './params.ts';
export * from './signatures.ts';
export * from './staking/index.ts';
export * from './tx-rules.ts';
export * from './validator-set.ts';
