import { afterEach, describe, expect, it } from 'vitest';
import { call, newGate, startTestServer, stateOf, type TestServer, textOf } from './connect.js';

type Notification = { progress: number; total?: number | undefined; message?: string | undefined };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('progress over the real client (stateful HTTP)', () => {
  it('is throttled, and the final value always reaches the client before the answer', async () => {
    server = await startTestServer('http-stateful');
    const client = await server.connect();
    const seen: Notification[] = [];
    const result = await call(client, 'burst', { n: 2000 }, { onprogress: (p) => seen.push(p) });
    expect(textOf(result)).toBe('2000 steps');
    // 2000 reports in one go: the first, then one per 1% moved, then the last.
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.length).toBeLessThanOrEqual(102);
    expect(seen[0]).toEqual({ progress: 1, total: 2000, message: 'step 1' });
    expect(seen.at(-1)).toEqual({ progress: 2000, total: 2000, message: 'step 2000' });
    const values = seen.map((n) => n.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length); // strictly increasing, as the spec requires
  });

  it('phases reach the client as percentages with the phase in the message', async () => {
    server = await startTestServer('http-stateful');
    const client = await server.connect();
    const gate = newGate();
    const seen: Notification[] = [];
    const running = await call(client, 'phased', { gate }, { onprogress: (p) => seen.push(p) });
    expect(seen).toContainEqual({ progress: 15, total: 100, message: 'download: file 5 of 10' });
    expect(seen.at(-1)).toEqual({ progress: 47.5, total: 100, message: 'render: frame 1 of 4' });
    expect(running.structuredContent).toMatchObject({
      progress: { current: 47.5, total: 100, message: 'render: frame 1 of 4' },
    });
    await call(client, 'open_gate', { gate });
  });

  it('a continue_operation that carries its own progressToken hears the progress made while it waits', async () => {
    server = await startTestServer('http-stateful');
    const client = await server.connect();
    const gate1 = newGate();
    const gate2 = newGate();
    const id = stateOf(await call(client, 'two_stage', { gate1, gate2 }))!.operation_id;
    const seen: Notification[] = [];
    let opened = false;
    let opening: Promise<unknown> | undefined; // awaited below: it may not outlive the test
    const continued = call(
      client,
      'continue_operation',
      { operation_id: id, wait_seconds: 10 },
      {
        onprogress: (p) => {
          seen.push(p);
          // Where it stood when the continuation began arrives first; then move it along.
          if (!opened) {
            opened = true;
            opening = call(client, 'open_gate', { gate: gate1 }).then(() =>
              call(client, 'open_gate', { gate: gate2 }),
            );
          }
        },
      },
    );
    expect(textOf(await continued)).toBe('both stages');
    await opening;
    expect(seen[0]).toEqual({ progress: 1, total: 3, message: 'stage 1' });
    expect(seen.map((n) => n.message)).toContain('stage 2');
    expect(seen.at(-1)).toEqual({ progress: 3, total: 3, message: 'done' });
  });

  it('a heartbeat keeps notifications coming while the request waits, with increasing values', async () => {
    server = await startTestServer('http-stateful', 5000, { progress: { heartbeatMs: 30 } });
    const client = await server.connect();
    const gate = newGate();
    const seen: Notification[] = [];
    let opening: Promise<unknown> | undefined;
    const result = await call(
      client,
      'gated_patient',
      { gate },
      {
        onprogress: (p) => {
          seen.push(p);
          if (seen.length === 4) opening = call(client, 'open_gate', { gate });
        },
      },
    );
    expect(textOf(result)).toBe(`gate ${gate} passed`);
    await opening;
    // The work reported once (1/2) before the gate; the next three came from the heartbeat.
    expect(seen[0]).toEqual({ progress: 1, total: 2, message: `waiting for gate ${gate}` });
    for (let i = 1; i < 4; i++) {
      expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
      expect(seen[i]!.progress).toBeLessThan(1.001);
      expect(seen[i]!.message).toBe(`waiting for gate ${gate}`);
    }
  });

  it('no token, no notifications: a client that asked for none gets none', async () => {
    server = await startTestServer('http-stateful', 5000, { progress: { heartbeatMs: 10 } });
    const client = await server.connect();
    let notifications = 0;
    client.setNotificationHandler(
      (await import('@modelcontextprotocol/sdk/types.js')).ProgressNotificationSchema,
      () => {
        notifications++;
      },
    );
    expect(textOf(await call(client, 'burst', { n: 50 }))).toBe('50 steps');
    expect(notifications).toBe(0);
  });
});
