// Argument checks shared by the options and the executor's methods. Each message names the argument
// and shows the value received, in the style of p-queue:
//   Expected `timeout` to be a finite number of milliseconds >= 0, got `NaN` (number)

/** The largest delay Node's timers honour; longer ones silently fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The longest operation id accepted as input; real ids are 22 characters. */
const MAX_ID_LENGTH = 256;

/** Renders a received value for an error message, never throwing and never printing megabytes. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'function') text = `[Function ${value.name || 'anonymous'}]`;
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'symbol' || value === null || typeof value !== 'object') text = String(value);
  else if (Array.isArray(value)) text = `[Array(${value.length})]`;
  else text = Object.prototype.toString.call(value);
  if (text.length > 80) text = `${text.slice(0, 80)}…`;
  return `\`${text}\` (${value === null ? 'null' : typeof value})`;
}

/** A duration: finite, >= 0 and <= `max`, in `unit` (milliseconds unless said otherwise). */
export function checkMilliseconds(
  name: string,
  value: unknown,
  max = MAX_TIMER_MS,
  unit = 'milliseconds',
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new (typeof value === 'number' ? RangeError : TypeError)(
      `Expected \`${name}\` to be a finite number of ${unit} from 0 to ${max}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** A whole number >= `min`, or `Infinity` when `allowInfinity`. */
export function checkCount(name: string, value: unknown, min: number, allowInfinity = false): number {
  const ok =
    typeof value === 'number' &&
    value >= min &&
    (Number.isSafeInteger(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    throw new (typeof value === 'number' ? RangeError : TypeError)(
      `Expected \`${name}\` to be a whole number from ${min} up${allowInfinity ? ' (or Infinity)' : ''}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** A progress report's `current` and `total`: finite numbers >= 0, `total` optional. */
export function checkProgressValues(current: unknown, total: unknown): [number, number | undefined] {
  if (typeof current !== 'number' || !Number.isFinite(current) || current < 0) {
    throw new TypeError(
      `Expected progress \`current\` to be a finite number >= 0, got ${describeValue(current)}`,
    );
  }
  if (total !== undefined && (typeof total !== 'number' || !Number.isFinite(total) || total < 0)) {
    throw new TypeError(
      `Expected progress \`total\` to be a finite number >= 0, got ${describeValue(total)}`,
    );
  }
  return [current, total as number | undefined];
}

/** Whether `value` could be an operation (or task) id: a non-empty string of bounded length. */
export function isOperationId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

/** An id a caller sent, fit to echo in a message: itself, or its start and length when no id is that long. */
export function shownId(value: string): string {
  return value.length <= MAX_ID_LENGTH ? value : `${value.slice(0, 32)}… (${value.length} characters)`;
}

/** An operation id as received from a caller: a non-empty string of bounded length. */
export function checkOperationId(value: unknown): string {
  if (!isOperationId(value)) {
    throw new TypeError(
      `Expected \`operationId\` to be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** An optional string option (`type`, `owner`, `reason`...). */
export function checkOptionalString(name: string, value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string') {
    throw new TypeError(`Expected \`${name}\` to be a string, got ${describeValue(value)}`);
  }
  return value;
}

/** An optional boolean option. */
export function checkOptionalBoolean(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`Expected \`${name}\` to be a boolean, got ${describeValue(value)}`);
  }
  return value;
}

/** A required function (the work given to `execute()`). */
export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be a function, got ${describeValue(value)}`);
  }
}

/** An optional AbortSignal. */
export function checkOptionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`Expected \`${name}\` to be an AbortSignal, got ${describeValue(value)}`);
  }
  return value;
}

const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Options renamed before 1.0, old name to new: an unknown key that is an old name gets pointed at
 * its new one.
 */
const RENAMED: Readonly<Record<string, string>> = {
  defaultTimeout: 'defaultWaitMs',
  timeout: 'waitMs',
  maxWait: 'maxWaitMs',
  maxLifetime: 'maxLifetimeMs',
  retentionPeriod: 'retentionMs',
  cleanupInterval: 'sweepIntervalMs',
  defaultWaitSeconds: 'defaultWaitMs',
  waitSeconds: 'waitMs',
  pollInterval: 'pollIntervalMs',
  idleTimeout: 'idleTimeoutMs',
  onprogress: 'onProgress',
};

/**
 * An options bag: `undefined` (read as no options) or a plain object whose every key is one of
 * `known`. An unknown key is a TypeError naming it, where it was given, and the nearest known name
 * (a typo, a case slip, or a name from before a rename), so that a misspelt option is never
 * silently ignored. `where` names the call: "execute() options".
 */
export function checkOptions(
  where: string,
  value: unknown,
  known: ReadonlySet<string>,
): Readonly<Record<string, unknown>> {
  if (value === undefined) return NO_OPTIONS;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`Expected ${where} to be an object, got ${describeValue(value)}`);
  }
  // for...in, not Object.keys(): no array is made on execute()'s hot path.
  for (const key in value) {
    if (!known.has(key)) throw unknownOption(where, key, known);
  }
  return value as Record<string, unknown>;
}

function unknownOption(where: string, key: string, known: ReadonlySet<string>): TypeError {
  const names = [...known];
  const hint = nearestName(key, names);
  const list = names.map((name) => `\`${name}\``).join(', ');
  return new TypeError(
    `Unknown option \`${key.length > 80 ? `${key.slice(0, 80)}…` : key}\` in ${where}` +
      `${hint === undefined ? '.' : `; did you mean \`${hint}\`?`} Known options: ${list}.`,
  );
}

/** The known name `key` most likely meant: a renamed option's new name, else the closest spelling. */
export function nearestName(key: string, names: readonly string[]): string | undefined {
  const renamed = RENAMED[key];
  if (renamed !== undefined && names.includes(renamed)) return renamed;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const name of names) {
    const distance = name.toLowerCase() === lower ? 0 : editDistance(lower, name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance; option names are short, so the plain table is fine. */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The largest input request, or set of input responses, taken, in bytes of JSON. */
export const MAX_INPUT_BYTES = 1_048_576;

/** The most input responses one call may give, and the longest key one may name. */
export const MAX_INPUT_RESPONSES = 100;
const MAX_INPUT_KEY_LENGTH = 256;

/**
 * An input request as the work gives it: a JSON object of bounded size. Answered as its JSON copy,
 * so that every store keeps (and every reader sees) the same value.
 */
export function checkInputRequest(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`Expected the input \`request\` to be a JSON object, got ${describeValue(value)}`);
  }
  return jsonCopy('the input `request`', value) as Record<string, unknown>;
}

/**
 * Input responses as a caller gives them: an object of at most {@link MAX_INPUT_RESPONSES} keys
 * (each a request's key), whose values are JSON. Answered as its JSON copy.
 */
export function checkInputResponses(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `Expected \`responses\` to be an object of responses by request key, got ${describeValue(value)}`,
    );
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_INPUT_RESPONSES) {
    throw new RangeError(
      `Expected \`responses\` to answer at most ${MAX_INPUT_RESPONSES} requests, got ${keys.length}`,
    );
  }
  const long = keys.find((key) => key.length === 0 || key.length > MAX_INPUT_KEY_LENGTH);
  if (long !== undefined) {
    throw new TypeError(
      `Expected every key of \`responses\` to be a request key of 1 to ${MAX_INPUT_KEY_LENGTH} characters, got ${describeValue(long)}`,
    );
  }
  const missing = keys.find((key) => (value as Record<string, unknown>)[key] === undefined);
  if (missing !== undefined) {
    throw new TypeError(
      `Expected \`responses\` to give a JSON value for ${describeValue(missing)}, got \`undefined\``,
    );
  }
  const copy = jsonCopy('`responses`', value) as Record<string, unknown>;
  const lost = keys.find((key) => !Object.hasOwn(copy, key));
  if (lost !== undefined) {
    throw new TypeError(
      `Expected \`responses\` to give a JSON value for ${describeValue(lost)}, got one JSON cannot carry (a function, a symbol)`,
    );
  }
  return copy;
}

/** `value` through JSON and back, refusing what JSON cannot carry or what is over {@link MAX_INPUT_BYTES}. */
function jsonCopy(name: string, value: object): unknown {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(
      `Expected ${name} to be JSON, but it cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_INPUT_BYTES) {
    throw new RangeError(`Expected ${name} to be at most ${MAX_INPUT_BYTES} bytes of JSON, got ${bytes}`);
  }
  return JSON.parse(json);
}
