/**
 * The wallet SDK in a real browser: src/client bundled by esbuild for the
 * browser (as a wallet app would), loaded from a page on 127.0.0.1 into
 * headless Debian Chromium, paying from a derived devnet key to a running
 * devnet node, and seeing the payment committed over the block stream.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';
import { mintLocalToken } from '../../src/api/auth/cookie.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { initNodeDir, NodeProcess } from '../support/node-process.ts';
import type { PayRequest, PayResult } from './page.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Debian's chromium, installed on first use when this user may (CI runs as root). */
function findChromium(): string | null {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() === 0) {
    const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'ignore',
      timeout: 600_000,
    });
    if (install.status === 0 && existsSync(CHROMIUM)) return CHROMIUM;
  }
  return null;
}

const chromiumPath = findChromium();

describe('the wallet SDK in headless Chromium', {
  skip:
    chromiumPath === null
      ? `no ${CHROMIUM}, and \`apt-get install -y chromium\` was not possible here: install Debian's chromium to run this test`
      : false,
}, () => {
  let dir: string;
  let node: NodeProcess;
  let page: Server;
  let pageUrl: string;
  let context: BrowserContext;
  let bundleInputs: string[];
  let nodeUrl: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'utxod-browser-'));
    const bundle = await build({
      absWorkingDir: ROOT,
      entryPoints: ['test/browser/page.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    bundleInputs = Object.keys(bundle.metafile.inputs);
    const script = bundle.outputFiles[0]!.text;
    page = createServer((request, response) => {
      if (request.url === '/sdk.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        response.end(script);
      } else {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          '<!doctype html><title>wallet</title><script type="module" src="/sdk.js"></script>',
        );
      }
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

    // The wallet page is another origin than the API: the operator allows it.
    const datadir = initNodeDir(join(dir, 'node'));
    const configFile = join(datadir, 'utxod.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, corsOrigins: [pageUrl] }));
    node = NodeProcess.start(datadir, ['--block-interval', '500']);
    // A loaded CI machine may take longer than NodeProcess's default 20 s to start a node.
    nodeUrl = String((await node.waitForLog((l) => l.msg === 'api listening', 120_000))['url']);

    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: chromiumPath!,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await context?.close();
    await node?.stop();
    await new Promise((resolve) => page?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the bundle holds no server code and no Node built-in', () => {
    const forbidden = bundleInputs.filter((input) =>
      /^(node:|src\/(api|node|chain|p2p|storage|mempool|cli|config|logger)\/)/.test(input),
    );
    assert.deepEqual(forbidden, []);
    assert.ok(bundleInputs.includes('src/crypto/sha256.web.ts'), 'the browser SHA-256 is used');
  });

  test('derives a key, builds, signs and submits a payment, sees it committed', async () => {
    const url = nodeUrl;
    const token = mintLocalToken(join(dir, 'node'), { role: 'reader' });
    assert.ok(token !== null);
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(pageUrl);
    await tab.waitForFunction(() => 'utxodPay' in globalThis, undefined, { timeout: 20_000 });
    const request: PayRequest = {
      url,
      token,
      mnemonic: DEVNET_MNEMONIC,
      amount: '7.25',
      toIndex: 5,
    };
    const result = await tab.evaluate(
      (req) =>
        (globalThis as unknown as { utxodPay(r: PayRequest): Promise<PayResult> }).utxodPay(req),
      request,
    );
    assert.deepEqual(errors, []);
    assert.equal(result.status, 'committed');
    assert.equal(result.hasNodeGlobals, false, 'the page ran without Node globals');
    assert.match(result.txid, /^[0-9a-f]{64}$/);
    assert.ok(result.committedHeight >= 1);
    // The node agrees, independently of the page: the payee holds exactly the amount.
    const status = (await (await fetch(`${url}/api/v1/txs/${result.txid}`)).json()) as {
      status: string;
      height: number;
      tx: { outputs: Array<{ address: string; amount: string }> };
    };
    assert.equal(status.status, 'committed');
    assert.equal(status.height, result.committedHeight);
    assert.ok(status.tx.outputs.some((o) => o.address === result.to && o.amount === '725000000'));
  });
});
