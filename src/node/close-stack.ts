import type { Logger } from 'pino';
import { asError } from '../util/index.ts';

/**
 * What `init` opened, in order; `closeAll` closes it in reverse. `init` fills
 * it and `close` (or a failed `init`) empties it, so the close order is the
 * init order reversed by construction and cannot drift. A close that fails is
 * logged and the rest still run: a stuck p2p host must not leave the database
 * open.
 */
export class CloseStack {
  private readonly entries: Array<{ readonly name: string; readonly close: () => Promise<void> }> =
    [];

  push(name: string, close: () => Promise<void>): void {
    this.entries.push({ name, close });
  }

  /** Names in close order (reverse of init), for logs and tests. */
  get closeOrder(): string[] {
    return this.entries.map((e) => e.name).reverse();
  }

  /** Closes everything, last opened first; returns the errors (already logged). */
  async closeAll(logger: Logger): Promise<Error[]> {
    const errors: Error[] = [];
    for (let entry = this.entries.pop(); entry !== undefined; entry = this.entries.pop()) {
      try {
        await entry.close();
      } catch (thrown) {
        const err = asError(thrown);
        errors.push(err);
        logger.error({ err, module: entry.name }, `could not close ${entry.name}`);
      }
    }
    return errors;
  }
}
