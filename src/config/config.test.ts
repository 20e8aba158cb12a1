import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, defaultConfigFile, envName, loadConfig } from './index.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-config-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('config', () => {
  it('layers defaults < file < environment < flags', () => {
    withDir((dir) => {
      writeFileSync(
        join(dir, 'utxod.json'),
        JSON.stringify({ blockIntervalMs: 2000, rpcPort: 9000, logLevel: 'warn' }),
      );
      const config = loadConfig(
        dir,
        { rpcPort: '9100' },
        { UTXOD_BLOCK_INTERVAL_MS: '3000', UTXOD_RPC_PORT: '9050' },
      );
      assert.equal(config.blockIntervalMs, 3000, 'env beats file');
      assert.equal(config.rpcPort, 9100, 'flag beats env');
      assert.equal(config.logLevel, 'warn', 'file beats default');
      assert.equal(config.mempoolMaxMb, DEFAULT_CONFIG.mempoolMaxMb);
      assert.equal(config.minRelayFeeRate, 1000n);
    });
  });

  it('names the key, the source and the expected form in errors', () => {
    withDir((dir) => {
      assert.throws(
        () => loadConfig(dir, {}, { UTXOD_BLOCK_INTERVAL_MS: 'fast' }),
        (e: unknown) =>
          e instanceof ConfigError &&
          /blockIntervalMs \(from env UTXOD_BLOCK_INTERVAL_MS\) must be an integer from 50 to 3600000, got "fast"/.test(
            e.message,
          ),
      );
      writeFileSync(join(dir, 'utxod.json'), JSON.stringify({ syncWrite: true }));
      assert.throws(() => loadConfig(dir), /config syncWrite .* must be one of the known keys/);
      writeFileSync(join(dir, 'utxod.json'), '{broken');
      assert.throws(() => loadConfig(dir), /must be valid JSON/);
      writeFileSync(join(dir, 'utxod.json'), JSON.stringify({ logLevel: 'loud' }));
      assert.throws(() => loadConfig(dir), /logLevel .* must be one of fatal, error/);
      writeFileSync(join(dir, 'utxod.json'), JSON.stringify({ minRelayFeeRate: '-1' }));
      assert.throws(() => loadConfig(dir), /minRelayFeeRate/);
    });
  });

  it('writes a default file that loads back to the defaults', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'utxod.json'), defaultConfigFile());
      const config = loadConfig(dir, {}, {});
      for (const [key, value] of Object.entries(DEFAULT_CONFIG))
        assert.deepEqual(config[key as keyof typeof config], value, key);
    });
  });

  it('takes a signed test-only clock offset and refuses one above the bound', () => {
    withDir((dir) => {
      assert.equal(loadConfig(dir, {}, { UTXOD_CLOCK_OFFSET_MS: '-30000' }).clockOffsetMs, -30_000);
      assert.equal(loadConfig(dir, { clockOffsetMs: 30_000 }, {}).clockOffsetMs, 30_000);
      assert.throws(
        () => loadConfig(dir, {}, { UTXOD_CLOCK_OFFSET_MS: '300001' }),
        /clockOffsetMs .* must be an integer from -300000 to 300000/,
      );
      assert.throws(() => loadConfig(dir, { clockOffsetMs: -300_001 }, {}), /clockOffsetMs/);
      assert.doesNotMatch(defaultConfigFile(), /clockOffsetMs/);
    });
  });

  it('maps keys to UTXOD_ environment names', () => {
    assert.equal(envName('utxoCacheMb'), 'UTXOD_UTXO_CACHE_MB');
  });
});
