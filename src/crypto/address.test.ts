import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bech32, bech32m } from '@scure/base';
import fc from 'fast-check';
import { fromHex, toHex } from '../util/bytes.ts';
import {
  AddressError,
  type AddressReason,
  decodeAddress,
  encodeAddress,
  NETWORK_HRP,
} from './address.ts';

const HRPS = Object.values(NETWORK_HRP);
const program32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

function rejects(fn: () => unknown, reason: AddressReason): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AddressError, `expected AddressError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_ADDRESS');
    assert.equal(e.reason, reason);
    return true;
  });
}

function rejectsDecode(address: string, hrp: string, reason: AddressReason): void {
  rejects(() => decodeAddress(address, hrp), reason);
}

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

describe('address: encode/decode', () => {
  it('has one distinct hrp per network', () => {
    assert.deepEqual(NETWORK_HRP, { mainnet: 'utx', testnet: 'tutx', devnet: 'dutx' });
  });

  it('round-trips every 32-byte program on every network', () => {
    fc.assert(
      fc.property(fc.constantFrom(...HRPS), program32, (hrp, program) => {
        const address = encodeAddress(hrp, 0, program);
        assert.ok(address.startsWith(`${hrp}1`));
        assert.equal(address, address.toLowerCase());
        assert.deepEqual(decodeAddress(address, hrp), { version: 0, program });
        // BIP-173: all-uppercase is the same address (QR codes use it).
        assert.deepEqual(decodeAddress(address.toUpperCase(), hrp), { version: 0, program });
      }),
    );
  });

  it('matches a BIP-350 string that happens to be in this format', () => {
    // bitcoin/bips bip-0350.mediawiki lists this as an invalid *segwit* address
    // ("Bech32m instead of Bech32" for v0); it is exactly our format: bech32m,
    // version 0, a 32-byte program (the one of that page's bc1p0xlx... vector).
    const address = 'tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47';
    const program = fromHex('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    assert.deepEqual(decodeAddress(address, 'tb'), { version: 0, program });
    assert.equal(encodeAddress('tb', 0, program), address);
  });

  it('detects any single-character substitution in the data part', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...HRPS),
        program32,
        fc.nat(),
        fc.integer({ min: 1, max: 31 }),
        (hrp, program, at, shift) => {
          const address = encodeAddress(hrp, 0, program);
          const dataStart = hrp.length + 1;
          const i = dataStart + (at % (address.length - dataStart));
          const replaced = ALPHABET[(ALPHABET.indexOf(address[i]!) + shift) % 32]!;
          const corrupted = address.slice(0, i) + replaced + address.slice(i + 1);
          rejectsDecode(corrupted, hrp, 'bad-checksum');
        },
      ),
    );
  });
});

describe('address: rejections', () => {
  const program = new Uint8Array(32).map((_, i) => i * 7);
  const good = encodeAddress(NETWORK_HRP.mainnet, 0, program);

  it('bad checksum', () => {
    const last = good.at(-1) === 'q' ? 'p' : 'q';
    rejectsDecode(good.slice(0, -1) + last, 'utx', 'bad-checksum');
  });

  it('bech32 instead of bech32m', () => {
    const legacy = bech32.encode('utx', [0, ...bech32.toWords(program)]);
    rejectsDecode(legacy, 'utx', 'bech32-not-bech32m');
    // bip-0350.mediawiki: a v0, 32-byte program segwit address (valid bech32).
    rejectsDecode(
      'tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7',
      'tb',
      'bech32-not-bech32m',
    );
  });

  it('wrong hrp (another network)', () => {
    for (const [network, hrp] of Object.entries(NETWORK_HRP)) {
      const address = encodeAddress(hrp, 0, program);
      for (const expected of HRPS) {
        if (expected === hrp) continue;
        rejectsDecode(address, expected, 'wrong-hrp');
      }
      assert.deepEqual(decodeAddress(address, hrp).program, program, network);
    }
  });

  it('bad version', () => {
    for (const version of [2, 16, 31]) {
      rejectsDecode(
        bech32m.encode('utx', [version, ...bech32m.toWords(program)]),
        'utx',
        'bad-version',
      );
    }
    // Version 1 (contracts) is ours now: a BIP-350 v1 address decodes as a contract program.
    assert.equal(
      decodeAddress('tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c', 'tb').version,
      1,
    );
    for (const version of [-1, 2, 1.5, 32, Number.NaN]) {
      rejects(() => encodeAddress('utx', version, program), 'bad-version');
    }
  });

  it('wrong program length', () => {
    for (const length of [0, 1, 20, 31, 33, 40]) {
      const words = [0, ...bech32m.toWords(new Uint8Array(length))];
      rejectsDecode(bech32m.encode('utx', words), 'utx', 'bad-program-length');
      rejects(() => encodeAddress('utx', 0, new Uint8Array(length)), 'bad-program-length');
    }
  });

  it('non-zero padding bits', () => {
    const words = [0, ...bech32m.toWords(program)];
    words[words.length - 1] = words.at(-1)! | 1;
    rejectsDecode(bech32m.encode('utx', words), 'utx', 'bad-padding');
  });

  it('mixed case', () => {
    const mixed = good.slice(0, 10) + good.slice(10).toUpperCase();
    rejectsDecode(mixed, 'utx', 'mixed-case');
    // bip-0350.mediawiki: "Mixed case".
    rejectsDecode(
      'tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq',
      'tb',
      'mixed-case',
    );
  });

  it('too long', () => {
    rejectsDecode(`${good}${'q'.repeat(91 - good.length)}`, 'utx', 'too-long');
    // bip-0350.mediawiki: "overall max length exceeded" (91 characters).
    rejectsDecode(
      'an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4',
      'an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber1',
      'too-long',
    );
    // An hrp of 31 characters would make a 91-character address.
    rejects(() => encodeAddress('u'.repeat(31), 0, program), 'too-long');
    assert.equal(encodeAddress('u'.repeat(30), 0, program).length, 90);
  });

  it('characters outside the alphabet, and malformed strings', () => {
    rejectsDecode('y1b0jsk6g', 'y', 'invalid-character'); // bip-0350: invalid data character
    rejectsDecode(`${good.slice(0, -3)}b${good.slice(-2)}`, 'utx', 'invalid-character');
    rejectsDecode('utx1 qqqqqqqq', 'utx', 'invalid-character');
    rejectsDecode('qyrz8wqd2c9m', 'utx', 'malformed'); // bip-0350: no separator
    rejectsDecode('1qyrz8wqd2c9m', 'utx', 'malformed'); // bip-0350: empty hrp
    rejectsDecode('utx1qqqqqq', 'utx', 'malformed'); // checksum only, no data
    rejectsDecode('', 'utx', 'malformed');
  });

  it('invalid hrp when encoding', () => {
    for (const hrp of ['', 'UTX', 'ut x', 'ütx']) {
      rejects(() => encodeAddress(hrp, 0, program), 'invalid-hrp');
    }
  });

  it('errors carry the reason in details', () => {
    try {
      decodeAddress(encodeAddress('tutx', 0, program), 'utx');
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof AddressError);
      assert.deepEqual(e.details, { reason: 'wrong-hrp', expected: 'utx', actual: 'tutx' });
      assert.equal(
        toHex(decodeAddress(encodeAddress('utx', 0, program), 'utx').program),
        toHex(program),
      );
    }
  });
});
