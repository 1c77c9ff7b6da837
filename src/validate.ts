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

/** An operation id as received from a caller: a non-empty string of bounded length. */
export function checkOperationId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
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

/** An optional AbortSignal. */
export function checkOptionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`Expected \`${name}\` to be an AbortSignal, got ${describeValue(value)}`);
  }
  return value;
}

const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/** An options bag: `undefined` (read as no options) or a plain object. */
export function checkOptionsObject(name: string, value: unknown): Readonly<Record<string, unknown>> {
  if (value === undefined) return NO_OPTIONS;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}
