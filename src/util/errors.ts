/**
 * Every error utxod raises on purpose is a `UtxodError`: a stable machine code
 * (`code`), a human message, and optional structured details. Callers branch on
 * `instanceof` and `code`, never on message text.
 */
export class UtxodError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: Code,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** Narrow an unknown thrown value to an Error so it can be logged with a stack. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
