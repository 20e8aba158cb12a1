// Which test files exercise each consensus-critical file under mutation.
// Shared by stryker.config.mjs (Node strips the types) and scripts/mutate.ts.
const rules = ['test/rules/block-rules.test.ts', 'test/rules/tx-rules.test.ts'];
const mempool = [
  'src/mempool/policy.test.ts',
  'src/mempool/mempool.test.ts',
  'src/mempool/mempool.prop.test.ts',
];
const encoding = ['src/encoding/encoding.test.ts', 'src/encoding/encoding.prop.test.ts'];
// The staking rules on a real state store, the supply invariant over random
// operation sequences, and the same rules through block connect and admission.
// (src/chain/staking.prop.test.ts is left out: half a minute a run, and it
// exercises nothing the chain test does not.)
const staking = [
  'src/consensus/staking/genesis-staking.test.ts',
  'src/consensus/staking/ledger.test.ts',
  'src/consensus/staking/rules-boundaries.test.ts',
  'src/consensus/staking/rules.test.ts',
  'src/consensus/staking/supply.prop.test.ts',
  'src/chain/staking.test.ts',
  'src/mempool/staking.test.ts',
];
const evidence = [
  'src/consensus/staking/evidence-pool.test.ts',
  'src/consensus/bft/evidence-intake.test.ts',
];

export const mutationTargets: Record<string, { readonly tests: readonly string[] }> = {
  // The staking tests cover the value a bond takes and a withdrawal adds
  // (checkTxInputs); the contract chain test the contract paths (payload
  // sanity, contract-locked inputs and their empty witness, TX_FEE_BELOW_GAS,
  // a safety net passing through asVerificationError unchanged, a signed
  // witness on a contract input verified).
  'src/consensus/tx-rules.ts': {
    tests: [
      ...rules,
      'src/chain/staking.test.ts',
      'src/mempool/staking.test.ts',
      'test/contracts/chain.test.ts',
      'test/contracts/signed-spend.test.ts',
    ],
  },
  // Proposals (planProposal, certifyProposal) and the sync range check
  // (checkBlockBinding, certificateJobs) run parts of the verifier alone.
  'src/chain/block-verifier.ts': {
    tests: [
      ...rules,
      'test/rules/local-faults.test.ts',
      'src/chain/chain-proposal.test.ts',
      'src/chain/set-change.test.ts',
      'src/p2p/sync/range-check.test.ts',
      'src/p2p/sync/range-check-genesis.test.ts',
    ],
  },
  'src/consensus/validator-set.ts': {
    tests: [
      'src/consensus/validator-set.rules.test.ts',
      'src/consensus/validator-set.test.ts',
      'test/rules/block-rules.test.ts',
    ],
  },
  'src/consensus/signatures.ts': {
    tests: [
      'src/consensus/signatures.cache.test.ts',
      'src/consensus/signatures.test.ts',
      'test/rules/tx-rules.test.ts',
    ],
  },
  'src/consensus/validator-signer.ts': {
    tests: [
      'src/consensus/validator-signer.test.ts',
      'src/consensus/validator-signer.rules.test.ts',
    ],
  },
  'src/crypto/muhash.ts': { tests: ['src/crypto/muhash.test.ts'] },
  // Signing and the one public-key check of consensus keys (staking payloads,
  // evidence) and of the wallet SDK.
  'src/crypto/signer.ts': {
    tests: [
      'src/crypto/signer.test.ts',
      'src/consensus/staking/payload.test.ts',
      'src/client/staking.test.ts',
    ],
  },
  'src/encoding/reader.ts': { tests: encoding },
  'src/encoding/writer.ts': { tests: encoding },
  'src/primitives/transaction.ts': {
    tests: ['src/primitives/transaction.test.ts', 'src/primitives/primitives.prop.test.ts'],
  },
  'src/primitives/block.ts': {
    tests: ['src/primitives/block.test.ts', 'src/primitives/primitives.prop.test.ts'],
  },
  // Admission also runs in the orphan pool's cascade, the snapshot reload and
  // the staking admission; each has its own test file.
  'src/mempool/mempool.ts': {
    tests: [
      ...mempool,
      'src/mempool/mempool-boundaries.test.ts',
      'src/mempool/mempool-events.test.ts',
      'src/mempool/orphans.test.ts',
      'src/mempool/snapshot.test.ts',
      'src/mempool/staking.test.ts',
    ],
  },
  // The replacement, package-limit and fee-floor policy, and the graph whose
  // descendant sets it reads (eviction by descendant score, RBF eviction sets).
  'src/mempool/policy.ts': { tests: mempool },
  'src/mempool/graph.ts': { tests: ['src/mempool/graph.test.ts', ...mempool] },
  'src/consensus/staking/rules.ts': { tests: staking },
  'src/consensus/staking/ledger.ts': { tests: staking },
  // Stateless decoding of staking payloads: also what checkTxSanity runs.
  'src/consensus/staking/payload.ts': {
    tests: ['src/consensus/staking/payload.test.ts', ...staking, 'test/rules/tx-rules.test.ts'],
  },
  // Slashing a validator for evidence is a staking rule (rules.test.ts).
  'src/consensus/staking/evidence.ts': {
    tests: [
      'src/consensus/staking/evidence.test.ts',
      ...evidence,
      'src/consensus/staking/rules.test.ts',
    ],
  },
  'src/consensus/staking/evidence-pool.ts': { tests: evidence },
  // The coins a block creates and the UTXO commitment update: the rule
  // fixture computes both by hand, so a wrong helper fails BLOCK_BAD_UTXO_ROOT;
  // rollback and genesis use the same helpers.
  'src/chain/utxo-changes.ts': {
    tests: [
      ...rules,
      'test/rules/rollback.test.ts',
      'src/chain/chain.test.ts',
      'src/chain/genesis.test.ts',
    ],
  },
};
