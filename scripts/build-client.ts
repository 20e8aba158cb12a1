/**
 * Builds the wallet SDK as `utxod/client`: one ES module for browsers and Node
 * (esbuild, "browser" condition, so no Node built-in is bundled) and its type
 * declarations (tsc). `npm run build:client`; CI runs it, `npm pack` too.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/client`;
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/client/index.ts'],
  outfile: 'dist/client/index.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // The @noble/@scure libraries stay imports: they are dependencies of utxod
  // already, and the app's bundler dedupes them.
  packages: 'external',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
const nodeOnly = Object.keys(result.metafile.inputs).filter((input) =>
  /^(node:|src\/(api|node|chain|p2p|storage|mempool|cli)\/)/.test(input),
);
if (nodeOnly.length > 0) throw new Error(`the SDK bundle pulls in ${nodeOnly.join(', ')}`);

execFileSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.client.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
const size = statSync(`${outdir}/index.js`).size;
process.stdout.write(
  `dist/client/index.js: ${(size / 1024).toFixed(1)} KiB, types in dist/client/types/\n`,
);
