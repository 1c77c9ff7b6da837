// ExecutorTaskStore read directly, as SDK code would: the executor's operations as tasks, scoped
// by session, cancel through the executor, and no task made or finished from outside.
import { afterEach, describe, expect, it } from 'vitest';
import { Executor, OperationCancelledError } from '../../src/index.js';
import { ExecutorTaskStore, withTasks } from '../../src/mcp/v1/index.js';
import { deferred, expectStatus } from '../helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

describe('ExecutorTaskStore', () => {
  it("answers a session's operations as tasks, and nothing of another session's", async () => {
    executor = new Executor({ retentionMs: 60_000 });
    const store = new ExecutorTaskStore(executor, { pollIntervalMs: 250 });
    const work = deferred<{ content: { type: 'text'; text: string }[] }>();
    const id = expectStatus(
      await executor.execute(() => work.promise, { waitMs: 0, owner: 'session:s1', type: 'render' }),
      'running',
    ).id;
    expect(await store.getTask(id, 's1')).toMatchObject({
      taskId: id,
      status: 'working',
      ttl: 60_000,
      pollInterval: 250,
    });
    expect(await store.getTask(id, 's2')).toBeNull();
    expect(await store.getTask(id)).toBeNull(); // no session: the anonymous owner
    expect((await store.listTasks(undefined, 's1')).tasks.map((t) => t.taskId)).toEqual([id]);
    expect((await store.listTasks(undefined, 's2')).tasks).toEqual([]);

    work.resolve({ content: [{ type: 'text', text: 'rendered' }] });
    expect(await store.getTaskResult(id, 's1')).toMatchObject({
      content: [{ type: 'text', text: 'rendered' }],
      _meta: { 'io.modelcontextprotocol/related-task': { taskId: id } },
    });
    expect(await store.getTask(id, 's1')).toMatchObject({ status: 'completed' });
  });

  it('updateTaskStatus("cancelled") cancels the work; other statuses, createTask and storeTaskResult refuse', async () => {
    executor = new Executor();
    const store = new ExecutorTaskStore(executor);
    const aborted = deferred<unknown>();
    const id = expectStatus(
      await executor.execute(
        ({ signal }) => {
          signal.addEventListener('abort', () => aborted.resolve(signal.reason));
          return new Promise(() => undefined);
        },
        { waitMs: 0, owner: 'session:s1' },
      ),
      'running',
    ).id;
    await expect(store.updateTaskStatus(id, 'completed', undefined, 's1')).rejects.toThrow(
      'only moves a task to "cancelled" (asked for "completed")',
    );
    await store.updateTaskStatus(id, 'cancelled', 'user said stop', 's1');
    const reason = await aborted.promise;
    expect(reason).toBeInstanceOf(OperationCancelledError);
    expect((reason as OperationCancelledError).reason).toBe('user said stop');
    expect(await store.getTask(id, 's1')).toMatchObject({ status: 'cancelled' });
    await expect(store.createTask({}, 1, { method: 'tools/call', params: {} }, 's1')).rejects.toThrow(
      'creates no tasks by itself (asked for tools/call)',
    );
    await expect(store.storeTaskResult(id)).rejects.toThrow(`task ${id} ends when its work does`);
  });

  it('withTasks() merges the store and the tasks capability into the given server options', () => {
    executor = new Executor();
    const options = withTasks(executor, { capabilities: { logging: {} }, instructions: 'be nice' });
    expect(options.taskStore).toBeInstanceOf(ExecutorTaskStore);
    expect(options.capabilities).toEqual({
      logging: {},
      tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
    });
    expect(options.instructions).toBe('be nice');
    expect(() => withTasks(executor, 'nope' as never)).toThrow(/options/);
  });
});
