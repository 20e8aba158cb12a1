/** Worker entry of `CoinHasher` (coin-hasher.ts): one partial MuHash per request. */
import { parentPort } from 'node:worker_threads';
import { type HashReply, type HashRequest, hashElements } from './coin-hasher.ts';

if (parentPort === null) throw new Error('coin-hasher-worker.ts must run in a worker thread');
const port = parentPort;

port.on('message', (request: HashRequest) => {
  const state = hashElements(request.elements, request.size).serialize();
  const reply: HashReply = { type: 'done', id: request.id, state };
  port.postMessage(reply, [state.buffer as ArrayBuffer]);
});

const ready: HashReply = { type: 'ready' };
port.postMessage(ready);
