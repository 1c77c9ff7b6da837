import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, stateOf, type TestServer, textOf } from './connect.js';

describe('a CPU-bound tool in a worker thread (stateful HTTP, real client)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('http-stateful');
  });
  afterAll(async () => {
    await server.close();
  });

  it('continue_operation and list_operations keep answering while it computes for 2 s', async () => {
    const client = await server.connect();
    const id = stateOf(await call(client, 'cpu_spin', { ms: 2000, steps: 20 }))!.operation_id;
    // On the main thread the server could not answer until the 2 s were over; answers that say
    // "running" with progress part-way show it answering during the computation.
    const midway = new Set<number>();
    let answer = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0 });
    while (stateOf(answer)?.status === 'running') {
      const current = stateOf(answer)?.progress?.current;
      if (current !== undefined && current < 20) midway.add(current);
      // No status filter: the work may finish between the two calls; listed it is, either way.
      const listed = await call(client, 'list_operations');
      expect(JSON.stringify(listed.structuredContent)).toContain(id);
      answer = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0.05 });
    }
    expect(textOf(answer)).toMatch(/^spun \d+ loops$/);
    expect(midway.size).toBeGreaterThan(1);
  });
});
