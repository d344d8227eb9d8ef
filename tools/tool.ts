import {
  BaseContent,
  type Content,
  EmptyContent,
  ErrorCode,
  JsonContent,
  type JsonObject,
} from "@meshagent/api";
import { cancelledError, raceAbort } from "./_abort.ts";
import { closeQuietly, isAsyncIterable } from "./_streams.ts";
import { compileSchema, type SchemaCheck } from "./_validator.ts";
import { BaseTool, type BaseToolOptions } from "./base_tool.ts";
import { ensureContent } from "./content.ts";
import type { ToolContext } from "./tool_context.ts";
import { ToolContentSpec } from "./tool_content_spec.ts";
import { ToolError, ToolValidationError } from "./tool_error.ts";

/**
 * How much a tool call is checked against the tool's `input_spec` / `output_spec`:
 *
 * - `"full"` (the default): content kinds, single vs streamed shape, and the JSON Schema of every
 *   `json` input and output (an `empty` input is checked as the JSON object `{}`).
 * - `"content_types"`: content kinds and single vs streamed shape only; no JSON Schema. For
 *   callers that validated already, or schemas that are documentation rather than contracts.
 * - `"none"`: no checks; the tool gets what arrives. (A {@linkcode FunctionTool} still needs a
 *   single `json` object or `empty` input, because it cannot run otherwise.)
 *
 * Control contents are never passed to a tool, and a tool may always answer with an `error`
 * content.
 */
export type ValidationMode = "full" | "content_types" | "none";

/** What {@linkcode Tool.execute} receives: one content, or a stream of contents. */
export type ToolInput = Content | AsyncIterable<Content>;

/**
 * What {@linkcode Tool.invoke} and {@linkcode Toolkit.execute} accept: a content, a plain JSON
 * object (sent as a `json` content), `undefined` (an `empty` content), or a stream of contents.
 * In a stream, a `control` open is skipped and a `control` close ends the input.
 */
export type ToolCallInput = Content | JsonObject | AsyncIterable<Content> | undefined;

/** What a tool call produces: one content (a unary result), or a stream of contents. */
export type ToolOutput = Content | AsyncIterable<Content>;

/** Options of one tool call. */
export interface ToolInvokeOptions {
  /** How much to check (default `"full"`). */
  validation?: ValidationMode;
}

function toToolInput(input: ToolCallInput): ToolInput {
  if (input === undefined) return new EmptyContent();
  if (input instanceof BaseContent) return input as Content;
  if (isAsyncIterable(input)) return input as AsyncIterable<Content>;
  return new JsonContent(input);
}

type Side = "input" | "output";

/**
 * A tool that runs: implement {@linkcode Tool.execute}; call it through {@linkcode Tool.invoke}
 * (or a {@linkcode Toolkit}), which checks the input against the tool's `input_spec` before
 * `execute` runs, turns what `execute` returns into contents ({@linkcode ensureContent}), checks
 * them against the `output_spec`, and turns every failure into a {@linkcode ToolError}.
 *
 * `execute` gets one content or, when the input is streamed, an async iterable of contents. It
 * returns a content, a plain value (see {@linkcode ensureContent}), or an async iterable of
 * either for a streamed output. For JSON-object input, {@linkcode FunctionTool} is simpler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Content, TextContent, Tool, ToolContext, type ToolInput } from "@meshagent/tools";
 *
 * class Shout extends Tool {
 *   constructor() {
 *     super({ name: "shout", inputSpec: { types: ["text"], stream: true }, outputSpec: { types: ["text"], stream: true } });
 *   }
 *   async *execute(_context: ToolContext, input: ToolInput) {
 *     for await (const chunk of input as AsyncIterable<Content>) {
 *       if (chunk instanceof TextContent) yield chunk.text.toUpperCase();
 *     }
 *   }
 * }
 *
 * async function* words() {
 *   yield new TextContent("hi");
 *   yield new TextContent("there");
 * }
 * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
 * const out: string[] = [];
 * for await (const c of await new Shout().invoke(ctx, words()) as AsyncIterable<Content>) {
 *   out.push((c as TextContent).text);
 * }
 * assert(out.join(" ") === "HI THERE");
 * ```
 */
export abstract class Tool extends BaseTool {
  readonly #inputCheck: SchemaCheck | null;
  readonly #outputCheck: SchemaCheck | null;

  /**
   * Creates the value.
   *
   * @param options The metadata.
   * @throws {ToolError} (code 1002) When the name is empty, a spec is invalid, or a schema is not
   * a valid JSON Schema.
   */
  constructor(options: BaseToolOptions) {
    super(options);
    this.#inputCheck = this.#compile("input", this.inputSpec);
    this.#outputCheck = this.#compile("output", this.outputSpec);
  }

  #compile(side: Side, spec: ToolContentSpec | null): SchemaCheck | null {
    if (!spec?.schema) return null;
    try {
      return compileSchema(spec.schema, this.defs);
    } catch (e) {
      throw new ToolError(
        `tool ${this.name} has an invalid ${side}_schema: ${(e as Error).message}`,
        ErrorCode.INVALID_REQUEST,
      );
    }
  }

  /**
   * Runs the tool. Do not call it directly: {@linkcode Tool.invoke} checks the input first.
   *
   * @param context The caller, the room, the call id, the cancellation signal, events.
   * @param input One content, or an async iterable of contents when the input is streamed.
   * @returns A content or a plain value, an async iterable of either (a streamed output), or a
   * promise of one of those.
   */
  abstract execute(context: ToolContext, input: ToolInput): unknown;

  /**
   * Checks the input, runs {@linkcode Tool.execute}, and checks and converts what it returns.
   *
   * Single-content input and output are checked before this resolves. Items of a streamed input
   * are checked as the tool reads them, items of a streamed output as the caller reads them: a
   * mismatch then surfaces as a {@linkcode ToolValidationError} from the iterator. When
   * `context.signal` aborts, the call rejects (or the output stream throws) with a
   * {@linkcode ToolError} "the tool call was cancelled" (1008) or "timed out" (1009).
   *
   * @param context The call context.
   * @param input The input (see {@linkcode ToolCallInput}).
   * @param options The validation mode.
   * @returns The unary result or the output stream.
   * @throws {ToolError} When the input does not fit the spec ({@linkcode ToolValidationError}),
   * the tool throws, or the call is cancelled.
   */
  async invoke(
    context: ToolContext,
    input?: ToolCallInput,
    options: ToolInvokeOptions = {},
  ): Promise<ToolOutput> {
    const mode = options.validation ?? "full";
    const prepared = this.#prepareInput(toToolInput(input), mode);
    if (context.signal.aborted) throw cancelledError(context.signal);
    let returned: unknown;
    try {
      const running = new Promise<unknown>((resolve) => resolve(this.execute(context, prepared)));
      returned = await raceAbort(running, context.signal);
    } catch (e) {
      throw ToolError.from(e);
    }
    return this.#prepareOutput(returned, mode, context.signal);
  }

  #check(content: Content, side: Side, mode: ValidationMode, chunk: boolean): void {
    const spec = side === "input" ? this.inputSpec : this.outputSpec;
    if (mode === "none" || spec === null) return;
    if (side === "output" && content.type === "error") return;
    const what = `tool ${this.name} ${side}${chunk ? " chunk" : ""}`;
    if (!spec.accepts(content.type)) {
      throw new ToolValidationError(
        `${what} has content type '${content.type}' but ${side}_spec accepts ` +
          spec.types.join(", "),
      );
    }
    const check = side === "input" ? this.#inputCheck : this.#outputCheck;
    if (mode !== "full" || check === null) return;
    let value: unknown;
    if (content instanceof JsonContent) value = content.json;
    else if (content.type === "empty" && side === "input") value = {};
    else return;
    const problems = check(value);
    if (problems.length > 0) {
      throw new ToolValidationError(
        `${what} does not match ${side}_schema: ${problems.join("; ")}`,
      );
    }
  }

  #prepareInput(input: ToolInput, mode: ValidationMode): ToolInput {
    const spec = this.inputSpec;
    if (isAsyncIterable(input)) {
      if (mode !== "none" && spec !== null && !spec.stream) {
        throw new ToolValidationError(
          `tool ${this.name} input is streamed but input_spec requires single-content input`,
        );
      }
      return this.#inputStream(input, mode);
    }
    if (mode !== "none") {
      if (input.type === "control") {
        throw new ToolValidationError(
          `tool ${this.name} input is a control content; send a stream of contents instead`,
        );
      }
      if (spec !== null && spec.stream) {
        throw new ToolValidationError(
          `tool ${this.name} input is a single content but input_spec requires streamed input`,
        );
      }
      this.#check(input, "input", mode, false);
    }
    return input;
  }

  async *#inputStream(
    source: AsyncIterable<Content>,
    mode: ValidationMode,
  ): AsyncGenerator<Content> {
    for await (const item of source) {
      const content = ensureContent(item);
      if (content.type === "control") {
        if (content.method === "open") continue;
        if (content.abnormal) {
          throw new ToolError(
            `the input stream of tool ${this.name} was closed with status ${content.statusCode}` +
              (content.message ? `: ${content.message}` : ""),
            ErrorCode.INVALID_REQUEST,
          );
        }
        return;
      }
      this.#check(content, "input", mode, true);
      yield content;
    }
  }

  #prepareOutput(returned: unknown, mode: ValidationMode, signal: AbortSignal): ToolOutput {
    const spec = this.outputSpec;
    if (isAsyncIterable(returned)) {
      if (mode !== "none" && spec !== null && !spec.stream) {
        closeQuietly(returned[Symbol.asyncIterator]());
        throw new ToolValidationError(
          `tool ${this.name} output is streamed but output_spec requires single-content output`,
        );
      }
      return this.#outputStream(returned, mode, signal);
    }
    const content = ensureContent(returned);
    if (content.type === "control") {
      throw new ToolError(
        `tool ${this.name} returned a control content; return an async iterable for a streamed output`,
        ErrorCode.OPERATION_FAILED,
      );
    }
    if (mode !== "none" && spec !== null && spec.stream && content.type !== "error") {
      throw new ToolValidationError(
        `tool ${this.name} output is a single content but output_spec requires streamed output`,
      );
    }
    this.#check(content, "output", mode, false);
    return content;
  }

  async *#outputStream(
    source: AsyncIterable<unknown>,
    mode: ValidationMode,
    signal: AbortSignal,
  ): AsyncGenerator<Content> {
    const it = source[Symbol.asyncIterator]();
    let finished = false;
    try {
      while (true) {
        let next: IteratorResult<unknown>;
        try {
          next = await raceAbort(Promise.resolve(it.next()), signal);
        } catch (e) {
          throw ToolError.from(e);
        }
        if (next.done) {
          finished = true;
          return;
        }
        const content = ensureContent(next.value);
        if (content.type === "control") {
          if (content.method === "open") continue;
          if (content.abnormal) {
            throw new ToolError(
              content.message ??
                `the output stream of tool ${this.name} closed with status ${content.statusCode}`,
              ErrorCode.OPERATION_FAILED,
            );
          }
          return;
        }
        this.#check(content, "output", mode, true);
        yield content;
      }
    } finally {
      if (!finished) closeQuietly(it);
    }
  }
}

/** The function of a {@linkcode FunctionTool}: gets the call context and the JSON arguments. */
export type ToolFunction<A = JsonObject> = (context: ToolContext, args: A) => unknown;

/** The options of a {@linkcode FunctionTool}. */
export interface FunctionToolOptions<A = JsonObject>
  extends Omit<BaseToolOptions, "inputSchema" | "inputSpec"> {
  /** The JSON Schema of the arguments object. */
  inputSchema: JsonObject;
  /** The function to run (or override {@linkcode FunctionTool.run} in a subclass). */
  run?: ToolFunction<A>;
}

function argsFrom(tool: string, input: Content): JsonObject {
  if (input.type === "empty") return {};
  if (input instanceof JsonContent) {
    const json = input.json;
    if (json !== null && typeof json === "object" && !Array.isArray(json)) {
      return json as JsonObject;
    }
    throw new ToolValidationError(
      `tool ${tool} requires a JSON object input, received ${
        Array.isArray(json) ? "an array" : JSON.stringify(json)
      }`,
    );
  }
  throw new ToolValidationError(
    `tool ${tool} requires JSON object input, received content type '${input.type}'`,
  );
}

/**
 * A tool made of a function and the JSON Schema of its arguments: its input is one `json` object
 * (`input_spec = {"types":["json"],"stream":false,"schema":…}`, an `empty` input counts as `{}`),
 * checked against the schema before the function runs. The function returns a content or a
 * plain value ({@linkcode ensureContent}), or an async iterable for a streamed output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool, JsonContent, ToolContext } from "@meshagent/tools";
 *
 * const add = new FunctionTool<{ a: number; b: number }>({
 *   name: "add",
 *   description: "Adds two numbers",
 *   inputSchema: {
 *     type: "object",
 *     properties: { a: { type: "number" }, b: { type: "number" } },
 *     required: ["a", "b"],
 *     additionalProperties: false,
 *   },
 *   run: (_context, { a, b }) => ({ sum: a + b }),
 * });
 * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
 * const result = await add.invoke(ctx, { a: 2, b: 3 });
 * assert(result instanceof JsonContent && (result.json as { sum: number }).sum === 5);
 * ```
 */
export class FunctionTool<A = JsonObject> extends Tool {
  readonly #run?: ToolFunction<A>;

  /**
   * Creates the value.
   *
   * @param options The metadata, the arguments schema and the function.
   * @throws {ToolError} (code 1002) When the name is empty or the schema is invalid.
   */
  constructor(options: FunctionToolOptions<A>) {
    const { run, inputSchema, ...rest } = options;
    super({ ...rest, inputSpec: ToolContentSpec.json(inputSchema) });
    if (run) this.#run = run;
  }

  /**
   * Turns the input content into the arguments object and calls {@linkcode FunctionTool.run}.
   *
   * @param context The call context.
   * @param input A `json` object content or an `empty` content.
   * @returns What `run` returns.
   */
  override execute(context: ToolContext, input: ToolInput): unknown {
    if (isAsyncIterable(input)) {
      throw new ToolValidationError(
        `tool ${this.name} input is streamed but input_spec requires single-content input`,
      );
    }
    return this.run(context, argsFrom(this.name, input) as A);
  }

  /**
   * Runs the tool on checked arguments. Calls the `run` option; subclasses may override it.
   *
   * @param context The call context.
   * @param args The arguments (they matched the input schema unless validation was off).
   * @returns A content, a plain value, an async iterable, or a promise of one.
   */
  run(context: ToolContext, args: A): unknown {
    if (!this.#run) {
      throw new ToolError(
        `FunctionTool ${this.name} has nothing to run: pass run in its options or override run()`,
        ErrorCode.OPERATION_FAILED,
      );
    }
    return this.#run(context, args);
  }
}
