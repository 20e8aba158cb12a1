/**
 * Worker entry of `ParallelVerifier` (verify-pool.ts): verifies packed
 * 129-byte records with the fastest backend this thread can load and sends
 * back one byte per record, transferring both buffers instead of copying.
 */
import { parentPort } from 'node:worker_threads';
import { bestVerifier } from './verifier.ts';
import { type VerifyRequest, type VerifyWorkerMessage, verifyPacked } from './verify-pool.ts';

if (parentPort === null) throw new Error('verify-worker.ts must run in a worker thread');
const port = parentPort;
const verifier = bestVerifier();

port.on('message', (request: VerifyRequest) => {
  const results = verifyPacked(new Uint8Array(request.buffer), request.count, verifier);
  const reply: VerifyWorkerMessage = { type: 'result', id: request.id, results };
  port.postMessage(reply, [results.buffer]);
});

const ready: VerifyWorkerMessage = { type: 'ready', backend: verifier.name };
port.postMessage(ready);
