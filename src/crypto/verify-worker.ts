/**
 * Worker entry of `ParallelVerifier` (verify-pool.ts): claims chunks of a
 * shared batch until none is left, verifying them with the fastest backend
 * this thread can load, then says it has drained the batch.
 */
import { parentPort } from 'node:worker_threads';
import { bestVerifier } from './verifier.ts';
import {
  sharedBatch,
  type VerifyControlMessage,
  type VerifyRequest,
  type VerifyWorkerMessage,
  verifyOneChunk,
} from './verify-pool.ts';

if (parentPort === null) throw new Error('verify-worker.ts must run in a worker thread');
const port = parentPort;
const verifier = bestVerifier();

port.on('message', (request: VerifyRequest | VerifyControlMessage) => {
  // Closing the port ends the thread between chunks, never inside a native call.
  if ('type' in request) {
    port.close();
    return;
  }
  const batch = sharedBatch(request);
  while (verifyOneChunk(batch, verifier));
  const reply: VerifyWorkerMessage = { type: 'drained', id: request.id };
  port.postMessage(reply);
});

const ready: VerifyWorkerMessage = { type: 'ready', backend: verifier.name };
port.postMessage(ready);
