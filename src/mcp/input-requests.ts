// The input a long-running tool may ask of its client during a task (the tasks extension's
// `input_required`, whose requests are those of MRTR: elicitation, sampling, roots), free of any
// SDK: their shapes, the capability each needs, and the check of a client's response before the
// work is handed it. A response of the wrong shape is refused at tasks/update (the request stays
// outstanding), not thrown at the work.

import { describeValue } from '../validate.js';

/** Params of an `elicitation/create` request (form mode: a message and the fields wanted). */
export interface ElicitParams {
  /** What to ask the user. */
  message: string;
  /** The fields wanted, as a flat JSON Schema object of primitive properties. */
  requestedSchema?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** The user's answer to an elicitation. */
export interface ElicitResult {
  /** `accept` (with `content`), `decline`, or `cancel` (dismissed without a choice). */
  action: 'accept' | 'decline' | 'cancel';
  /** The fields given, for `accept`. */
  content?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** A request a tool may put to its client during a task: the method, and its params as the spec has them. */
export interface InputRequest {
  /** `elicitation/create` (ask the user), `sampling/createMessage` (ask the client's model), `roots/list`. */
  method: 'elicitation/create' | 'sampling/createMessage' | 'roots/list';
  /** The request's params: for `elicitation/create`, an {@link ElicitParams}. */
  params?: Record<string, unknown> | undefined;
}

/** The client capability each input method needs, as the request's client capabilities name it. */
const CAPABILITY_OF: Readonly<Record<InputRequest['method'], string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** Checks what a tool asks: one of the three methods, with params an object (an elicitation's with a message). */
export function checkToolInputRequest(request: unknown): InputRequest {
  const given = request as { method?: unknown; params?: unknown } | null;
  if (given === null || typeof given !== 'object' || !Object.hasOwn(CAPABILITY_OF, String(given.method))) {
    throw new TypeError(
      `Expected the input request to be { method: "elicitation/create" | "sampling/createMessage" | "roots/list", params }, got ${describeValue(given?.method ?? request)}`,
    );
  }
  const params = given.params;
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new TypeError(
      `Expected the input request's \`params\` to be an object, got ${describeValue(params)}`,
    );
  }
  if (
    given.method === 'elicitation/create' &&
    typeof (params as { message?: unknown })?.message !== 'string'
  ) {
    throw new TypeError(
      `Expected an elicitation's \`params.message\` to be a string, got ${describeValue((params as { message?: unknown })?.message)}`,
    );
  }
  return request as InputRequest;
}

/**
 * Why a client whose request declared `capabilities` cannot answer an input request of `method`,
 * or `undefined` when it can.
 */
export function inputRefusal(
  capabilities: Record<string, unknown> | undefined,
  method: string,
): string | undefined {
  const needed = CAPABILITY_OF[method as InputRequest['method']];
  if (needed === undefined) return `"${method}" is not a request a tool may put to its client`;
  const declared = capabilities?.[needed];
  return declared !== null && typeof declared === 'object'
    ? undefined
    : `the client did not declare the ${needed} capability, which ${method} needs`;
}

/** What is wrong with `response` as the answer to `request`, or `undefined` when it has that request's result shape. */
export function responseProblem(request: unknown, response: unknown): string | undefined {
  if (response === null || typeof response !== 'object' || Array.isArray(response))
    return `expected a result object, got ${describeValue(response)}`;
  const r = response as Record<string, unknown>;
  switch ((request as { method?: unknown } | null)?.method) {
    case 'elicitation/create':
      if (r.action !== 'accept' && r.action !== 'decline' && r.action !== 'cancel')
        return `expected an elicitation result, whose \`action\` is "accept", "decline" or "cancel", got ${describeValue(r.action)}`;
      if (
        r.content !== undefined &&
        (r.content === null || typeof r.content !== 'object' || Array.isArray(r.content))
      )
        return `expected an elicitation result's \`content\` to be an object, got ${describeValue(r.content)}`;
      return undefined;
    case 'sampling/createMessage':
      if (r.role !== 'user' && r.role !== 'assistant')
        return `expected a sampling result, whose \`role\` is "user" or "assistant", got ${describeValue(r.role)}`;
      if (typeof r.model !== 'string')
        return `expected a sampling result's \`model\` to be a string, got ${describeValue(r.model)}`;
      if (r.content === null || typeof r.content !== 'object')
        return `expected a sampling result's \`content\` to be a content block or an array of them, got ${describeValue(r.content)}`;
      return undefined;
    case 'roots/list':
      if (!Array.isArray(r.roots))
        return `expected a roots result, whose \`roots\` is an array, got ${describeValue(r.roots)}`;
      return undefined;
    default:
      return undefined;
  }
}
