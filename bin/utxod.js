#!/usr/bin/env node
// The `utxod` command. utxod runs its TypeScript sources directly (Node's type
// stripping, Node >= 22.18), so there is no build step between a checkout and a
// running node. This launcher is plain JavaScript that any Node parses: on a
// suitable Node it loads the CLI in this process; on an older one (Debian's
// Node 20, say) it hands over to the Node 24 that `npm install` puts into
// node_modules, and otherwise says what is needed instead of a stack trace.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Type stripping is on by default from 22.18 and 23.6.
const MIN = [22, 18];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
// V8's compiled code for the sources, kept between runs (Node >= 22.1): a command
// then starts in about half the CPU time. Beside the installed packages, so only
// the user who installed them writes it; a read-only install just goes without.
const compileCache = join(root, 'node_modules', '.cache', 'utxod-compile');

function suitable(version) {
  const [major, minor] = version.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    // Not there (no `npm install` yet) or not runnable: the caller tries the next candidate.
    return false;
  }
}

if (suitable(process.versions.node)) {
  module.enableCompileCache?.(compileCache);
  await import(main);
} else {
  const candidates = [process.env.UTXOD_NODE, join(root, 'node_modules', 'node', 'bin', 'node')];
  const node = candidates.find((file) => file !== undefined && file !== '' && executable(file));
  if (node === undefined) {
    process.stderr.write(
      `utxod: needs Node.js ${MIN.join('.')} or newer (24 recommended); this is Node ${process.versions.node} (${process.execPath}).\n` +
        `  Run \`npm install\` in ${root} (it installs Node 24 into node_modules),\n` +
        '  install Node 24 from https://nodejs.org, or set UTXOD_NODE to a Node >= 22.18 binary.\n',
    );
    process.exit(1);
  }
  // In a process group of its own, so that a terminal's Ctrl-C (sent to the whole
  // foreground group) reaches it once, forwarded from here, not twice: a second
  // signal tells the node to stop without a clean shutdown.
  const child = spawn(node, [main, ...process.argv.slice(2)], {
    stdio: 'inherit',
    detached: true,
    env: { NODE_COMPILE_CACHE: compileCache, ...process.env },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`utxod: cannot run ${node}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
