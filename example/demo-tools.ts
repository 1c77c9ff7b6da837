// The demo's slow tool on SDK v2: a video "render" in phases, with progress, registered on every
// server the factory builds (one per stdio connection, or per HTTP request), all on one executor.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Executor } from '../src/index.js';
import { serverFactory } from '../src/mcp/index.js';

/** The executor the demo servers use: a short wait budget so that the demo shows a continuation. */
export function createDemoExecutor(): Executor {
  return new Executor({ defaultWaitMs: Number(process.env.MCP_ASYNC_WAIT_MS ?? 2000) });
}

// Built once: the factory runs per connection or request, and a zod object takes tens of µs to build.
const renderInput = z.object({
  title: z.string().min(1).max(200).describe('Title of the video.'),
  frames: z.number().int().min(1).max(10_000).describe('How many frames to render.'),
  frame_ms: z.number().int().min(1).max(10_000).default(250).describe('Milliseconds per frame.'),
});
const renderOutput = z.object({ file: z.string(), frames: z.number(), seconds: z.number() });

/** The factory for `serveStdio` or `createMcpHandler`: the executor lives outside it. */
export function createDemoFactory(executor: Executor) {
  return serverFactory(executor, { name: 'mcp-async-demo', version: '0.1.0' }, (tools) => {
    tools.registerTool(
      'render_video',
      {
        title: 'Render a video',
        description:
          'Renders a video of the given number of frames: prepares the scene, renders every frame, then encodes. ' +
          'Takes about frame_ms per frame; long renders answer "still running" and are fetched with continue_operation.',
        inputSchema: renderInput,
        outputSchema: renderOutput,
        annotations: { readOnlyHint: false, openWorldHint: false },
      },
      async ({ title, frames, frame_ms }, { signal, progress }) => {
        const started = Date.now();
        const total = frames + 2; // prepare + frames + encode
        progress(0, total, 'preparing the scene');
        await sleep(frame_ms, undefined, { signal });
        for (let frame = 1; frame <= frames; frame++) {
          await sleep(frame_ms, undefined, { signal });
          progress(frame, total, `rendering frame ${frame}/${frames}`);
        }
        progress(frames + 1, total, 'encoding');
        await sleep(frame_ms, undefined, { signal });
        progress(total, total, 'done');
        const file = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.mp4`;
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        return {
          content: [
            { type: 'text', text: `Rendered "${title}" (${frames} frames) to ${file} in ${seconds} s.` },
          ],
          structuredContent: { file, frames, seconds },
        };
      },
    );
  });
}
