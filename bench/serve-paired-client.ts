// Paired client of bench/serve.ts in a separate process, as a service calling reembed would be: on each
// IPC message {url, text, key} it makes one search with the lean keep-alive client and answers with the
// request's wall time in milliseconds (the IPC itself is outside the timed span).
import { Agent } from 'node:http';
import { leanSearch } from './lean-client.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
process.on('message', (m: 'exit' | { url: string; text: string; key: string | null }) => {
  if (m === 'exit') {
    agent.destroy();
    process.disconnect();
    return;
  }
  const t = performance.now();
  leanSearch(agent, new URL(m.url), m.text, m.key).then(
    () => process.send?.({ ms: performance.now() - t }),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.send?.({ ready: true });
