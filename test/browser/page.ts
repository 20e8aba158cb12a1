/**
 * What a wallet web app does with the SDK, bundled by sdk.test.ts and run in
 * headless Chromium: derive a key, read its coins, build and sign a payment,
 * submit it and see it committed over the stream. Only `src/client` is imported.
 */
import {
  accountPath,
  buildTransaction,
  deriveKey,
  formatCoins,
  lockToAddress,
  mnemonicToSeed,
  parseCoinAmount,
  pubkeyLock,
  RpcClient,
  StreamClient,
  spendableCoins,
  toHex,
  transactionFee,
} from '../../src/client/index.ts';

export interface PayRequest {
  readonly url: string;
  readonly token: string;
  readonly mnemonic: string;
  readonly amount: string;
  readonly toIndex: number;
}

export interface PayResult {
  readonly from: string;
  readonly to: string;
  readonly txid: string;
  readonly fee: string;
  readonly committedHeight: number;
  readonly status: string;
  readonly hasNodeGlobals: boolean;
}

async function pay(req: PayRequest): Promise<PayResult> {
  const seed = mnemonicToSeed(req.mnemonic);
  const payer = deriveKey(seed, accountPath(1, 0, 0));
  const payee = deriveKey(seed, accountPath(1, 0, req.toIndex));
  const api = new RpcClient({ url: req.url, token: req.token });
  const info = await api.chainInfo();
  const fromLock = pubkeyLock(payer.publicKey);
  const from = lockToAddress(fromLock, info.addressPrefix);
  const to = lockToAddress(pubkeyLock(payee.publicKey), info.addressPrefix);
  const coins = spendableCoins(await api.allUtxos(from), {
    lock: fromLock,
    tipHeight: info.tip.height,
    coinbaseMaturity: info.params.coinbaseMaturity,
  });
  const feeRate = BigInt((await api.feeEstimate()).feeRate);
  const tx = buildTransaction({
    chainId: info.chainId,
    coins,
    outputs: [{ amount: parseCoinAmount(req.amount), lock: pubkeyLock(payee.publicKey) }],
    changeLock: fromLock,
    feeRate,
    keys: [payer],
  });
  const stream = await StreamClient.connect({ url: req.url, token: req.token });
  try {
    await stream.subscribeBlocks();
    const txid = toHex(tx.txid);
    const committed = stream.waitForCommit(txid, 30_000);
    const submitted = await api.submitTx(tx);
    const block = await committed;
    return {
      from,
      to,
      txid: submitted.txid,
      fee: formatCoins(transactionFee(tx, coins)),
      committedHeight: block.height,
      status: (await api.tx(txid)).status,
      hasNodeGlobals: 'process' in globalThis || 'Buffer' in globalThis,
    };
  } finally {
    stream.close();
  }
}

(globalThis as { utxodPay?: typeof pay }).utxodPay = pay;
