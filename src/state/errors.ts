import { UtxodError } from '../util/index.ts';

export type StateErrorCode =
  | 'STATE_VALUE_TOO_LARGE'
  | 'STATE_BAD_HEIGHT'
  | 'STATE_FOREIGN_OVERLAY'
  | 'STATE_ROOT_NOT_RETAINED'
  | 'STATE_NODE_MISSING'
  | 'STATE_UNDO_MISSING'
  | 'STATE_CORRUPT';

/** A misuse of the state store, or a database that does not hold what it must. */
export class StateError extends UtxodError<StateErrorCode> {}
