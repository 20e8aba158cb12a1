import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as secp from '@noble/secp256k1';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { fromHex, toHex } from '../util/bytes.ts';
import {
  accountPath,
  DerivationPathError,
  type DerivationPathReason,
  deriveKey,
  generateMnemonic,
  MnemonicError,
  type MnemonicReason,
  mnemonicToSeed,
  parsePath,
  SeedError,
  validateMnemonic,
} from './hd-keys.ts';

const ABANDON_ABOUT =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

function rejectsMnemonic(mnemonic: string, reason: MnemonicReason): void {
  assert.equal(validateMnemonic(mnemonic), false);
  assert.throws(
    () => mnemonicToSeed(mnemonic),
    (e: unknown) =>
      e instanceof MnemonicError && e.code === 'INVALID_MNEMONIC' && e.reason === reason,
  );
}

function rejectsPath(path: string, reason: DerivationPathReason): void {
  assert.throws(
    () => deriveKey(new Uint8Array(32), path),
    (e: unknown) =>
      e instanceof DerivationPathError &&
      e.code === 'INVALID_DERIVATION_PATH' &&
      e.reason === reason,
    path,
  );
}

/** The private and public key encoded in a BIP32 extended key. */
function keysOf(xprv: string): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const key = HDKey.fromExtendedKey(xprv);
  return { privateKey: key.privateKey!, publicKey: key.publicKey! };
}

describe('hd-keys: BIP39', () => {
  // trezor/python-mnemonic, vectors.json, "english" (the reference vectors
  // BIP39 links to; all use passphrase "TREZOR"): [entropy, mnemonic, seed, xprv].
  const vectors = [
    [
      ABANDON_ABOUT,
      'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
      'xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF',
    ],
    [
      'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote',
      'dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad',
      'xprv9s21ZrQH143K2WFF16X85T2QCpndrGwx6GueB72Zf3AHwHJaknRXNF37ZmDrtHrrLSHvbuRejXcnYxoZKvRquTPyp2JiNG3XcjQyzSEgqCB',
    ],
  ] as const;

  it('derives the reference seeds and master keys (passphrase "TREZOR")', () => {
    for (const [mnemonic, seedHex, xprv] of vectors) {
      assert.ok(validateMnemonic(mnemonic));
      const seed = mnemonicToSeed(mnemonic, 'TREZOR');
      assert.equal(toHex(seed), seedHex);
      const master = deriveKey(seed, 'm');
      assert.deepEqual(
        { privateKey: master.privateKey, publicKey: master.publicKey },
        keysOf(xprv),
      );
    }
  });

  it('the passphrase changes the seed', () => {
    assert.notEqual(
      toHex(mnemonicToSeed(ABANDON_ABOUT)),
      toHex(mnemonicToSeed(ABANDON_ABOUT, 'TREZOR')),
    );
  });

  it('generates valid 12- and 24-word mnemonics', () => {
    const m12 = generateMnemonic(128);
    const m24 = generateMnemonic(256);
    assert.equal(m12.split(' ').length, 12);
    assert.equal(m24.split(' ').length, 24);
    assert.equal(generateMnemonic().split(' ').length, 24);
    assert.ok(validateMnemonic(m12) && validateMnemonic(m24));
    assert.notEqual(generateMnemonic(128), m12);
    assert.throws(
      () => generateMnemonic(192 as 128),
      (e: unknown) => e instanceof MnemonicError && e.reason === 'unsupported-strength',
    );
  });

  it('rejects bad mnemonics with a reason', () => {
    rejectsMnemonic('abandon '.repeat(11) + 'abandon', 'checksum');
    rejectsMnemonic(ABANDON_ABOUT.replace('about', 'above'), 'checksum');
    rejectsMnemonic(ABANDON_ABOUT.replace('about', 'aboot'), 'unknown-word');
    rejectsMnemonic(ABANDON_ABOUT.replace('abandon', 'Abandon'), 'unknown-word');
    rejectsMnemonic('abandon '.repeat(10) + 'about', 'word-count');
    rejectsMnemonic(ABANDON_ABOUT.replace(' ', '  '), 'word-count');
    rejectsMnemonic(` ${ABANDON_ABOUT}`, 'word-count');
    rejectsMnemonic('', 'word-count');
  });
});

describe('hd-keys: BIP32', () => {
  it("derives test vector 1, chain m/0'/1", () => {
    // bitcoin/bips bip-0032.mediawiki, "Test vector 1", chain m/0H/1.
    const seed = fromHex('000102030405060708090a0b0c0d0e0f');
    const xprv =
      'xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs';
    const xpub =
      'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ';
    for (const path of ["m/0'/1", 'm/0h/1']) {
      const key = deriveKey(seed, path);
      assert.equal(key.path, "m/0'/1");
      assert.deepEqual(key.privateKey, keysOf(xprv).privateKey);
      assert.deepEqual(key.publicKey, HDKey.fromExtendedKey(xpub).publicKey);
    }
    // Our use of @scure/bip32 reproduces the whole extended key too.
    assert.equal(HDKey.fromMasterSeed(seed).derive("m/0'/1").privateExtendedKey, xprv);
  });

  it('returns a compressed public key of the private key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.array(fc.tuple(fc.nat(0x7fff_ffff), fc.boolean()), { maxLength: 4 }),
        (seed, steps) => {
          const path = ['m', ...steps.map(([i, hard]) => `${i}${hard ? "'" : ''}`)].join('/');
          const key = deriveKey(seed, path);
          assert.equal(key.path, path);
          assert.equal(key.privateKey.length, 32);
          assert.equal(key.publicKey.length, 33);
          assert.deepEqual(key.publicKey, secp.getPublicKey(key.privateKey, true));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('returns copies the caller owns', () => {
    const seed = new Uint8Array(32).fill(7);
    const a = deriveKey(seed, 'm/1');
    a.privateKey.fill(0);
    assert.notDeepEqual(deriveKey(seed, 'm/1').privateKey, a.privateKey);
  });

  it('rejects bad paths with a reason', () => {
    for (const path of [
      '',
      'M/0',
      'm/',
      'm//0',
      "m/0''",
      'm/01',
      'm/-1',
      'm/1x',
      "m/0'/",
      '0/1',
      'm/ 1',
    ]) {
      rejectsPath(path, 'syntax');
    }
    rejectsPath('m/2147483648', 'index-out-of-range');
    rejectsPath("m/2147483648'", 'index-out-of-range');
    rejectsPath('m/99999999999999999999', 'index-out-of-range');
    rejectsPath(`m${'/0'.repeat(256)}`, 'too-deep');
    assert.equal(parsePath(`m${'/0'.repeat(255)}`).indexes.length, 255);
    assert.deepEqual(parsePath("m/2147483647'/2147483647").indexes, [0xffff_ffff, 0x7fff_ffff]);
  });

  it('rejects seeds outside 16..64 bytes', () => {
    for (const length of [0, 15, 65]) {
      assert.throws(
        () => deriveKey(new Uint8Array(length), 'm/0'),
        (e: unknown) => e instanceof SeedError && e.code === 'INVALID_SEED',
      );
    }
  });
});

describe('hd-keys: accountPath', () => {
  it("builds m/44'/coin'/account'/0/index", () => {
    assert.equal(accountPath(0, 0, 0), "m/44'/0'/0'/0/0");
    assert.equal(accountPath(1, 2, 3), "m/44'/1'/2'/0/3");
    const seed = mnemonicToSeed(ABANDON_ABOUT);
    const key = deriveKey(seed, accountPath(0, 0, 0));
    assert.equal(key.path, "m/44'/0'/0'/0/0");
  });

  it('rejects indexes that are not 31-bit naturals', () => {
    const cases: Array<[number, number, number]> = [
      [-1, 0, 0],
      [0, 0x8000_0000, 0],
      [0, 0, 1.5],
      [Number.NaN, 0, 0],
    ];
    for (const [coinType, account, index] of cases) {
      assert.throws(
        () => accountPath(coinType, account, index),
        (e: unknown) => e instanceof DerivationPathError && e.reason === 'index-out-of-range',
      );
    }
  });
});
