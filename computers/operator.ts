import type { JsonObject } from "@meshagent/api";
import type { Computer } from "./computer.ts";
import { BLOCKED_DOMAINS, checkUrl } from "./url_blocklist.ts";

/** A safety check the model asks the user to acknowledge (`pending_safety_checks[]`). */
export interface SafetyCheck {
  /** Its id (sent back as acknowledged). */
  id: string;
  /** Its code (`malicious_instructions`, `irrelevant_domain`, `sensitive_domain`). */
  code?: string;
  /** What the user is asked to acknowledge. */
  message: string;
}

/** Options of an {@linkcode Operator}. */
export interface OperatorOptions {
  /** Domains the browser may not visit (default {@linkcode BLOCKED_DOMAINS}). */
  blockedDomains?: readonly string[];
  /**
   * Decides each pending safety check (default: acknowledged, as the official operator). False
   * refuses the call with an {@linkcode OperatorError}.
   */
  acknowledgeSafetyCheck?: (check: SafetyCheck) => boolean | Promise<boolean>;
}

/** Thrown for a `computer_call` the operator cannot play. */
export class OperatorError extends Error {
  /** `invalid_action`, `unacknowledged_safety_check`. */
  readonly code: string;

  /**
   * Creates the value.
   *
   * @param message What is wrong, for the person and the model.
   * @param code A stable code.
   */
  constructor(message: string, code = "invalid_action") {
    super(message);
    this.name = "OperatorError";
    this.code = code;
  }
}

type ArgKind = "number" | "string" | "keys" | "path" | "button";
interface ArgSpec {
  name: string;
  kind: ArgKind;
  optional?: boolean;
}
interface ActionSpec {
  /** Runs the action with its checked arguments, in {@linkcode args} order. */
  run(computer: Computer, args: unknown[]): Promise<unknown>;
  args: readonly ArgSpec[];
}

const num = (name: string, optional = false): ArgSpec => ({ name, kind: "number", optional });

/**
 * The computer-use actions (`action.type`) and their arguments, as OpenAI sends them; each runs
 * the {@linkcode Computer} method of the same meaning.
 */
const ACTIONS: Readonly<Record<string, ActionSpec>> = {
  click: {
    args: [num("x"), num("y"), { name: "button", kind: "button", optional: true }],
    run: (c, [x, y, button]) => c.click(x as number, y as number, button as "left"),
  },
  double_click: {
    args: [num("x"), num("y")],
    run: (c, [x, y]) => c.doubleClick(x as number, y as number),
  },
  scroll: {
    args: [num("x"), num("y"), num("scroll_x", true), num("scroll_y", true)],
    run: (c, [x, y, sx, sy]) =>
      c.scroll(x as number, y as number, (sx as number) ?? 0, (sy as number) ?? 0),
  },
  type: { args: [{ name: "text", kind: "string" }], run: (c, [text]) => c.type(text as string) },
  wait: { args: [num("ms", true)], run: (c, [ms]) => c.wait(ms as number | undefined) },
  move: { args: [num("x"), num("y")], run: (c, [x, y]) => c.move(x as number, y as number) },
  keypress: {
    args: [{ name: "keys", kind: "keys" }],
    run: (c, [keys]) => c.keypress(keys as string[]),
  },
  drag: {
    args: [{ name: "path", kind: "path" }],
    run: (c, [path]) => c.drag(path as { x: number; y: number }[]),
  },
  screenshot: { args: [], run: (c) => c.screenshot() },
  get_current_url: { args: [], run: (c) => c.getCurrentUrl() },
  goto: { args: [{ name: "url", kind: "string" }], run: (c, [url]) => c.goto(url as string) },
  back: { args: [], run: (c) => c.back() },
  forward: { args: [], run: (c) => c.forward() },
};

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function readArg(type: string, spec: ArgSpec, value: unknown): unknown {
  if (value === undefined || value === null) {
    if (spec.optional) return undefined;
    throw new OperatorError(`computer action ${type} needs \`${spec.name}\``);
  }
  const wrong = (what: string) =>
    new OperatorError(`computer action ${type}: \`${spec.name}\` must be ${what}`);
  switch (spec.kind) {
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw wrong("a number");
      return value;
    case "string":
      if (typeof value !== "string") throw wrong("a string");
      return value;
    case "button":
      if (typeof value !== "string") throw wrong("a button name");
      return value;
    case "keys":
      if (!Array.isArray(value) || !value.every((k) => typeof k === "string")) {
        throw wrong("a list of key names");
      }
      return value;
    case "path":
      if (
        !Array.isArray(value) ||
        !value.every((p) => isObject(p) && typeof p.x === "number" && typeof p.y === "number")
      ) throw wrong("a list of {x, y} points");
      return value;
  }
}

/** The actions of a `computer_call` item: `actions[]` (batched) or `[action]`. */
export function computerActions(item: JsonObject): JsonObject[] {
  const actions = item.actions;
  if (Array.isArray(actions) && actions.length > 0) {
    if (!actions.every(isObject)) {
      throw new OperatorError("computer_call actions must be objects");
    }
    return actions as JsonObject[];
  }
  if (isObject(item.action)) return [item.action];
  throw new OperatorError("computer_call is missing action data (`actions` or `action`)");
}

/**
 * The `computer_call_output` that answers a `computer_call` with a screenshot: the PNG as a data
 * URL, and the call's pending safety checks as acknowledged.
 *
 * @param call The `computer_call` item.
 * @param png The screenshot, base64.
 * @returns The output item.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computerCallOutput } from "@meshagent/computers";
 * const out = computerCallOutput({ type: "computer_call", call_id: "c1" }, "iVBO");
 * assert.deepEqual(out.output, { type: "computer_screenshot", image_url: "data:image/png;base64,iVBO" });
 * ```
 */
export function computerCallOutput(call: JsonObject, png: string): JsonObject {
  const pending = Array.isArray(call.pending_safety_checks)
    ? call.pending_safety_checks.filter(isObject)
    : [];
  return {
    type: "computer_call_output",
    call_id: String(call.call_id ?? ""),
    output: { type: "computer_screenshot", image_url: `data:image/png;base64,${png}` },
    // [impl] The API takes acknowledged checks back with the output (the official operator
    // acknowledges them without saying so).
    ...(pending.length > 0 ? { acknowledged_safety_checks: pending } : {}),
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Plays the items of an OpenAI computer-use response on a {@linkcode Computer} (agents-sources.md
 * §5): for a `computer_call` it runs each action (`actions[]`, or the single `action`) by its
 * type, takes a screenshot, has every pending safety check acknowledged, checks that a browser is
 * not on a blocked URL, and answers with a `computer_call_output` holding the screenshot as a
 * `data:image/png;base64,…` URL (and the acknowledged checks). `goto` actions to a blocked URL are
 * refused before the browser goes there. A `function_call` naming an action runs it and answers
 * `success`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Operator, OperatorError } from "@meshagent/computers";
 * const operator = new Operator();
 * await assert.rejects(
 *   operator.play({} as never, { type: "computer_call", call_id: "c1", action: { type: "fly" } }),
 *   OperatorError,
 * );
 * ```
 */
export class Operator {
  readonly #blocked: readonly string[];
  readonly #acknowledge: (check: SafetyCheck) => boolean | Promise<boolean>;

  /**
   * Creates the value.
   *
   * @param options The blocklist and the safety-check decision.
   */
  constructor(options: OperatorOptions = {}) {
    this.#blocked = options.blockedDomains ?? BLOCKED_DOMAINS;
    this.#acknowledge = options.acknowledgeSafetyCheck ?? (() => true);
  }

  /** The blocked domains. */
  get blockedDomains(): readonly string[] {
    return this.#blocked;
  }

  /**
   * Runs one action (`{type, …arguments}`); arguments the action does not take are dropped with
   * a warning.
   *
   * @param computer The computer.
   * @param action The action.
   * @returns What the computer method returned.
   * @throws {OperatorError} For an unknown action or a missing or malformed argument.
   * @throws {BlockedUrlError} For a `goto` to a blocked URL.
   */
  async runAction(computer: Computer, action: JsonObject): Promise<unknown> {
    const type = String(action.type ?? "");
    const spec = Object.hasOwn(ACTIONS, type) ? ACTIONS[type] : undefined;
    if (!spec) {
      throw new OperatorError(
        `unsupported computer action: ${type || "(none)"} (known: ${
          Object.keys(ACTIONS).join(", ")
        })`,
      );
    }
    const known = new Set(spec.args.map((arg) => arg.name));
    for (const name of Object.keys(action)) {
      if (name !== "type" && !known.has(name)) {
        console.warn(`computer action ${type}: ignoring unsupported argument ${name}`);
      }
    }
    const args = spec.args.map((arg) => readArg(type, arg, action[arg.name]));
    if (type === "goto") checkUrl(args[0] as string, this.#blocked);
    return await spec.run(computer, args);
  }

  /**
   * Plays one output item.
   *
   * @param computer The computer (started).
   * @param item A `computer_call` or `function_call` item.
   * @returns The items that answer it (none for other item types).
   * @throws {OperatorError} For a malformed call or a refused safety check.
   * @throws {BlockedUrlError} When the browser is sent to, or ends up on, a blocked URL.
   */
  async play(computer: Computer, item: JsonObject): Promise<JsonObject[]> {
    if (item.type === "function_call") {
      let args: unknown;
      try {
        args = JSON.parse(String(item.arguments ?? "{}"));
      } catch {
        throw new OperatorError(`function_call ${item.name}: the arguments are not JSON`);
      }
      await this.runAction(computer, { ...(isObject(args) ? args : {}), type: String(item.name) });
      return [{ type: "function_call_output", call_id: String(item.call_id), output: "success" }];
    }
    if (item.type !== "computer_call") return [];
    for (const action of computerActions(item)) await this.runAction(computer, action);
    const screenshot = await computer.screenshot();
    const pending = Array.isArray(item.pending_safety_checks)
      ? item.pending_safety_checks.filter(isObject)
      : [];
    for (const check of pending) {
      const safety: SafetyCheck = {
        id: String(check.id ?? ""),
        message: String(check.message ?? ""),
        ...(typeof check.code === "string" ? { code: check.code } : {}),
      };
      if (!(await this.#acknowledge(safety))) {
        throw new OperatorError(
          `Safety check failed: ${safety.message}. Cannot continue with unacknowledged safety ` +
            `checks.`,
          "unacknowledged_safety_check",
        );
      }
    }
    if (computer.environment === "browser") checkUrl(await computer.getCurrentUrl(), this.#blocked);
    return [computerCallOutput(item, base64(screenshot))];
  }
}
