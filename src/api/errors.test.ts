import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerificationError } from '../consensus/errors.ts';
import { MempoolError } from '../mempool/errors.ts';
import { UtxodError } from '../util/errors.ts';
import { ApiError, describeError } from './errors.ts';

describe('describeError', () => {
  it('keeps consensus codes with the reason and the peer penalty', () => {
    const failure = describeError(
      new VerificationError('TX_INPUT_MISSING', 'input 0 is not unspent', { amount: 5n }),
    );
    assert.deepEqual(failure, {
      status: 422,
      code: 'TX_INPUT_MISSING',
      message: 'input 0 is not unspent',
      details: { amount: '5', rule: 'consensus', penalty: 0 },
    });
  });

  it('maps mempool policy codes to their status', () => {
    assert.equal(describeError(new MempoolError('MEMPOOL_ALREADY_KNOWN', 'x')).status, 409);
    assert.equal(describeError(new MempoolError('MEMPOOL_FULL', 'x')).status, 503);
    assert.equal(describeError(new MempoolError('MEMPOOL_FEE_TOO_LOW', 'x')).status, 422);
  });

  it('passes through other layers’ coded refusals with their status', () => {
    class Refusal extends UtxodError<'AUTH_FORBIDDEN'> {
      readonly statusCode = 403;
    }
    const failure = describeError(
      new Refusal('AUTH_FORBIDDEN', 'needs admin', { required: 'admin' }),
    );
    assert.equal(failure.status, 403);
    assert.equal(failure.code, 'AUTH_FORBIDDEN');
    assert.deepEqual(failure.details, { required: 'admin' });
  });

  it('never leaks an unexpected error', () => {
    const failure = describeError(new Error('ENOENT /secret/path'));
    assert.deepEqual(failure, {
      status: 500,
      code: 'INTERNAL_ERROR',
      message: 'internal error',
      details: {},
    });
  });

  it('makes details JSON-safe', () => {
    const failure = describeError(
      new ApiError(404, 'NOT_FOUND', 'x', {
        big: 10n ** 20n,
        bytes: Uint8Array.of(1, 2),
        nested: { drop: true },
        list: ['a'],
      }),
    );
    assert.deepEqual(failure.details, { big: '100000000000000000000', bytes: '0102', list: ['a'] });
  });
});
