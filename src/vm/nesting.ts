import { type TokenType, tokenizer, tokTypes as tt } from 'acorn';
import { ContractError } from './errors.ts';
import { VmLimits } from './gas.ts';

/**
 * Bounds how deep a parser must recurse on this source, before any parser
 * runs. acorn (and our own walker) recurse once per nesting level, so source
 * nested deeper than the host stack allows would throw a RangeError whose
 * threshold depends on how deep the caller's stack already is: a deploy could
 * then be valid on one node and invalid on another. The tokenizer is
 * iterative, so this check itself cannot overflow.
 *
 * Two bounds: brackets ( [ { ${ nest at most `maxNesting` deep, and along any
 * path no more than `maxRecursionTokens` operators and keywords (each of which
 * can open a recursive parse) are counted, reset at a statement boundary of
 * their block (`else` chains never reset: `else if` recurses).
 */
export function checkNesting(source: string): void {
  const counts: number[] = [0];
  const elses: number[] = [0];
  let brackets = 0;
  let pathTotal = 0;
  try {
    for (const token of tokenizer(source, { ecmaVersion: 2022, sourceType: 'module' })) {
      const type = token.type;
      if (OPENERS.has(type)) {
        brackets++;
        if (brackets > VmLimits.maxNesting) {
          throw new ContractError(
            'CONTRACT_SYNTAX',
            `nested deeper than ${VmLimits.maxNesting} brackets`,
            {
              offset: token.start,
            },
          );
        }
        if (type === tt.braceL || type === tt.dollarBraceL) {
          counts.push(0);
          elses.push(0);
        }
      } else if (CLOSERS.has(type)) {
        brackets--;
        if (type === tt.braceR && counts.length > 1) {
          pathTotal -= (counts.pop() ?? 0) + (elses.pop() ?? 0);
        }
      } else if (type === tt.semi) {
        pathTotal -= counts[counts.length - 1] ?? 0;
        counts[counts.length - 1] = 0;
      } else if (type === tt._else) {
        elses[elses.length - 1] = (elses[elses.length - 1] ?? 0) + 1;
        pathTotal++;
      } else if (RECURSING.has(type)) {
        counts[counts.length - 1] = (counts[counts.length - 1] ?? 0) + 1;
        pathTotal++;
      }
      if (pathTotal > VmLimits.maxRecursionTokens) {
        throw new ContractError(
          'CONTRACT_SYNTAX',
          `more than ${VmLimits.maxRecursionTokens} operators on one statement path; split the expression`,
          { offset: token.start },
        );
      }
    }
  } catch (error) {
    if (error instanceof ContractError) throw error;
    throw new ContractError('CONTRACT_SYNTAX', (error as Error).message);
  }
}

// dollarBraceL is closed by a plain braceR token.
const OPENERS: ReadonlySet<TokenType> = new Set([
  tt.parenL,
  tt.bracketL,
  tt.braceL,
  tt.dollarBraceL,
]);
const CLOSERS: ReadonlySet<TokenType> = new Set([tt.parenR, tt.bracketR, tt.braceR]);
const RECURSING: ReadonlySet<TokenType> = new Set([
  tt.question,
  tt.arrow,
  tt.eq,
  tt.assign,
  tt.incDec,
  tt.ellipsis,
  tt._if,
  tt._for,
  tt._while,
  tt._do,
  tt._return,
  tt._throw,
  tt._new,
  tt._typeof,
  tt._void,
  tt._delete,
  tt._function,
  tt._in,
  tt._instanceof,
  tt.prefix,
  tt.logicalOR,
  tt.logicalAND,
  tt.bitwiseOR,
  tt.bitwiseXOR,
  tt.bitwiseAND,
  tt.equality,
  tt.relational,
  tt.bitShift,
  tt.plusMin,
  tt.modulo,
  tt.star,
  tt.slash,
  tt.starstar,
  tt.coalesce,
]);
