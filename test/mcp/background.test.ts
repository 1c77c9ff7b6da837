import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newGate, startTestServer, stateOf, type TestServer, textOf } from './connect.js';

describe("a long-running tool with background: 'auto' and an estimate hook (stateful HTTP)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('http-stateful');
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers running at once when its estimate for these arguments outlives the wait, and says why', async () => {
    const client = await server.connect();
    const gate = newGate();
    const running = await call(client, 'estimated', { gate, items: 60 }); // 60 s estimated, 5 s wait
    expect(stateOf(running)?.status).toBe('running');
    // answered before its 5 s wait was over: it did not sit it out
    expect(stateOf(running)?.elapsed_ms).toBeLessThan(5000);
    expect(textOf(running)).toContain(
      "It went to the background at once: expected to take about 1 min 00 s (the caller's estimate), longer than the 5.0 s wait.",
    );
    await call(client, 'open_gate', { gate });
    const done = await call(client, 'continue_operation', {
      operation_id: stateOf(running)!.operation_id,
      wait_seconds: 10,
    });
    expect(textOf(done)).toBe(`estimated ${gate} done`);
  });

  it('waits as usual when the estimate fits the wait', async () => {
    const client = await server.connect();
    const gate = newGate();
    await call(client, 'open_gate', { gate });
    const result = await call(client, 'estimated', { gate, items: 1 });
    expect(textOf(result)).toBe(`estimated ${gate} done`);
  });
});
