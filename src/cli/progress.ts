/**
 * A one-line progress bar on a terminal (stderr), nothing otherwise: logs and
 * pipes get the final summary only.
 */
export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ((done: number, total: number) => void) & { finish(): void } {
  const enabled = stream.isTTY === true;
  let lastDraw = 0;
  const draw = (done: number, total: number) => {
    if (!enabled) return;
    const now = Date.now();
    if (done !== total && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    const ratio = total === 0 ? 1 : done / total;
    const filled = Math.round(ratio * width);
    stream.write(
      `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} (${(ratio * 100).toFixed(1)}%)`,
    );
  };
  return Object.assign(draw, {
    finish() {
      if (enabled) stream.write('\n');
    },
  });
}
