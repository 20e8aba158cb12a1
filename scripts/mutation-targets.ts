// Which test files exercise each consensus-critical file under mutation.
// Shared by stryker.config.mjs (Node strips the types) and scripts/mutate.ts.
const rules = ['test/rules/block-rules.test.ts', 'test/rules/tx-rules.test.ts'];
const mempool = [
  'src/mempool/policy.test.ts',
  'src/mempool/mempool.test.ts',
  'src/mempool/mempool.prop.test.ts',
];
const encoding = ['src/encoding/encoding.test.ts', 'src/encoding/encoding.prop.test.ts'];

export const mutationTargets: Record<string, { readonly tests: readonly string[] }> = {
  // The staking tests cover the value a bond takes and a withdrawal adds (checkTxInputs).
  'src/consensus/tx-rules.ts': {
    tests: [...rules, 'src/chain/staking.test.ts', 'src/mempool/staking.test.ts'],
  },
  'src/chain/block-verifier.ts': { tests: [...rules, 'test/rules/local-faults.test.ts'] },
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
  'src/encoding/reader.ts': { tests: encoding },
  'src/encoding/writer.ts': { tests: encoding },
  'src/primitives/transaction.ts': {
    tests: ['src/primitives/transaction.test.ts', 'src/primitives/primitives.prop.test.ts'],
  },
  'src/primitives/block.ts': {
    tests: ['src/primitives/block.test.ts', 'src/primitives/primitives.prop.test.ts'],
  },
  'src/mempool/mempool.ts': { tests: mempool },
  // The replacement, package-limit and fee-floor policy, and the graph whose
  // descendant sets it reads (eviction by descendant score, RBF eviction sets).
  'src/mempool/policy.ts': { tests: mempool },
  'src/mempool/graph.ts': { tests: ['src/mempool/graph.test.ts', ...mempool] },
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
