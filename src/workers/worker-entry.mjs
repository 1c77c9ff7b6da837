// Runs inside a Piscina worker thread: loads the operation's module, calls the named export with
// the input and a progress function, and reports progress to the main thread over the task's
// MessagePort. Plain JavaScript, so that a worker needs no TypeScript loader to start.

const modules = new Map();

async function load(moduleUrl) {
  let loading = modules.get(moduleUrl);
  if (loading === undefined) {
    loading = import(moduleUrl);
    modules.set(moduleUrl, loading);
  }
  return loading;
}

export default async function runOperation({ moduleUrl, exportName, input, port }) {
  const module = await load(moduleUrl);
  const fn = module[exportName];
  if (typeof fn !== 'function') {
    throw new TypeError(`Expected ${moduleUrl} to export a function named "${exportName}", got ${typeof fn}`);
  }
  const progress = (current, total, message) => port.postMessage({ current, total, message });
  try {
    return await fn(input, { progress });
  } finally {
    port.close();
  }
}
