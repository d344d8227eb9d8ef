import { BaseContent, type Content, ControlContent, ErrorCode } from "@meshagent/api";
import type { ToolDescriptionJson } from "./base_tool.ts";
import type { Tool, ToolCallInput, ToolInvokeOptions, ToolOutput, ValidationMode } from "./tool.ts";
import type { ToolContext } from "./tool_context.ts";
import { ToolError, ToolValidationError } from "./tool_error.ts";

/** The options of a {@linkcode Toolkit}. */
export interface ToolkitOptions {
  /** The toolkit name: the `toolkit` of `room.invoke_tool` and the routing key in a room. */
  name: string;
  /** A human-readable title (default: the name). */
  title?: string;
  /** What the toolkit is for (default `""`). */
  description?: string;
  /** Extra instructions for a model that uses the toolkit (local only). */
  rules?: readonly string[];
  /** The tools; names must be unique. */
  tools?: readonly Tool[];
  /** Whether other participants may see and call it once hosted in a room (default false). */
  public?: boolean;
  /** String annotations sent with the registration, e.g. `{"meshagent.tool_search": "true"}`. */
  annotations?: Readonly<Record<string, string>>;
  /** An image URL for UIs (sent as `thumbnail_url`). */
  thumbnailUrl?: string;
  /** How calls are checked against each tool's specs (default `"full"`, see {@linkcode ValidationMode}). */
  validation?: ValidationMode;
}

/**
 * The wire shape of a toolkit: the header of `room.register_toolkit` (protocol §7.1), with the
 * tools as a map from tool name to description. `thumbnail_url` is present only when set.
 */
export type ToolkitJson = {
  /** The toolkit name. */
  name: string;
  /** The title. */
  title: string;
  /** The description. */
  description: string;
  /** The tools by name. */
  tools: Record<string, ToolDescriptionJson>;
  /** Whether the toolkit is public. */
  public: boolean;
  /** String annotations. */
  annotations: Record<string, string>;
  /** An image URL for UIs. */
  thumbnail_url?: string;
};

async function* closedStream(output: AsyncIterable<Content>): AsyncGenerator<Content> {
  let close = ControlContent.close();
  try {
    for await (const chunk of output) yield chunk;
  } catch (e) {
    const error = ToolError.from(e);
    if (error instanceof ToolValidationError) {
      close = ControlContent.close(ToolValidationError.closeStatus, error.message);
    } else {
      yield error.toContent();
    }
  }
  yield close;
}

/**
 * A named group of tools: what a participant hosts in a room and what an agent hands to a model.
 * {@linkcode Toolkit.execute} finds a tool and runs it with this toolkit's validation mode;
 * {@linkcode Toolkit.respond} does the same but answers in protocol terms (errors as `error`
 * contents, streams ending with a `control` close), which is all a room host has to send.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionTool, JsonContent, ToolContext, Toolkit } from "@meshagent/tools";
 *
 * const math = new Toolkit({
 *   name: "math",
 *   public: true,
 *   tools: [
 *     new FunctionTool<{ a: number; b: number }>({
 *       name: "sum",
 *       inputSchema: {
 *         type: "object",
 *         properties: { a: { type: "number" }, b: { type: "number" } },
 *         required: ["a", "b"],
 *       },
 *       run: (_ctx, { a, b }) => ({ result: a + b }),
 *     }),
 *   ],
 * });
 * const ctx = new ToolContext({ caller: { id: "p-c", attributes: {} } });
 * const out = await math.execute(ctx, "sum", { a: 2, b: 3 });
 * assert(out instanceof JsonContent && (out.json as { result: number }).result === 5);
 * assert(Object.keys(math.toJson().tools).join() === "sum");
 * ```
 */
export class Toolkit {
  /** The toolkit name. */
  readonly name: string;
  /** The title. */
  readonly title: string;
  /** The description. */
  readonly description: string;
  /** Extra instructions for a model (local only). */
  readonly rules: readonly string[];
  /** The tools, in the order given. */
  readonly tools: readonly Tool[];
  /** Whether the toolkit is public once hosted. */
  readonly public: boolean;
  /** String annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  /** An image URL for UIs. */
  readonly thumbnailUrl?: string;
  /** How calls are checked. */
  readonly validation: ValidationMode;
  readonly #byName: Map<string, Tool>;

  /**
   * Creates the value.
   *
   * @param options The name, tools and metadata.
   * @throws {ToolError} When the name is empty (1002) or two tools share a name (1004).
   */
  constructor(options: ToolkitOptions) {
    if (typeof options.name !== "string" || options.name.trim() === "") {
      throw new ToolError("a toolkit needs a non-empty name", ErrorCode.INVALID_REQUEST);
    }
    this.name = options.name;
    this.title = options.title ?? options.name;
    this.description = options.description ?? "";
    this.rules = [...(options.rules ?? [])];
    this.tools = [...(options.tools ?? [])];
    this.public = options.public ?? false;
    this.annotations = { ...options.annotations };
    if (options.thumbnailUrl !== undefined) this.thumbnailUrl = options.thumbnailUrl;
    this.validation = options.validation ?? "full";
    this.#byName = new Map();
    for (const tool of this.tools) {
      if (this.#byName.has(tool.name)) {
        throw new ToolError(
          `toolkit ${this.name} has two tools named ${tool.name}; tool names must be unique`,
          ErrorCode.ALREADY_EXISTS,
        );
      }
      this.#byName.set(tool.name, tool);
    }
  }

  /**
   * Finds a tool by name.
   *
   * @param name The tool name.
   * @returns The tool.
   * @throws {ToolError} "Tool was not found <name>" (code 1003) for an unknown name.
   */
  getTool(name: string): Tool {
    const tool = this.#byName.get(name);
    if (!tool) throw new ToolError(`Tool was not found ${name}`, ErrorCode.NOT_FOUND);
    return tool;
  }

  /**
   * Runs a tool of this toolkit: finds it, checks the input per {@linkcode Toolkit.validation}
   * (or `options.validation`), runs it, and checks its output (see {@linkcode Tool.invoke}).
   *
   * @param context The call context.
   * @param toolName The tool name.
   * @param input The input (a content, a JSON object, `undefined`, or a stream of contents).
   * @param options Overrides the toolkit's validation mode for this call.
   * @returns The unary result or the output stream.
   * @throws {ToolError} For an unknown tool (1003), input that does not fit
   * ({@linkcode ToolValidationError}, 1002), a failing tool, or a cancelled call.
   */
  async execute(
    context: ToolContext,
    toolName: string,
    input?: ToolCallInput,
    options: ToolInvokeOptions = {},
  ): Promise<ToolOutput> {
    const tool = this.getTool(toolName);
    return await tool.invoke(context, input, { validation: options.validation ?? this.validation });
  }

  /**
   * Runs a tool like {@linkcode Toolkit.execute}, but never rejects: it resolves to what a room
   * host sends back.
   *
   * - A unary result is the content to answer with; every failure before the output starts
   *   (unknown tool, bad input, a throwing tool) is an `error` content with its code.
   * - A streamed result is the output to send after the `control` open. It always ends with a
   *   `control` close: status 1000 when the tool finishes; status 1007 with the message when an
   *   item fails validation; an `error` chunk then status 1000 when the tool fails midway.
   *
   * @param context The call context.
   * @param toolName The tool name.
   * @param input The input.
   * @param options Overrides the toolkit's validation mode for this call.
   * @returns The content to answer with, or the chunks to stream (close included).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ErrorContent, ToolContext, Toolkit } from "@meshagent/tools";
   * const empty = new Toolkit({ name: "empty" });
   * const ctx = new ToolContext({ caller: { id: "p-1", attributes: {} } });
   * const answer = await empty.respond(ctx, "nope", {});
   * assert(answer instanceof ErrorContent && answer.code === 1003);
   * ```
   */
  async respond(
    context: ToolContext,
    toolName: string,
    input?: ToolCallInput,
    options: ToolInvokeOptions = {},
  ): Promise<Content | AsyncIterable<Content>> {
    let output: ToolOutput;
    try {
      output = await this.execute(context, toolName, input, options);
    } catch (e) {
      return ToolError.from(e).toContent();
    }
    if (output instanceof BaseContent) return output as Content;
    return closedStream(output as AsyncIterable<Content>);
  }

  /**
   * The header of `room.register_toolkit` (protocol §7.1).
   *
   * @returns `{name, title, description, tools: {<name>: ToolDesc}, public, annotations}` plus
   * `thumbnail_url` when set.
   */
  toJson(): ToolkitJson {
    const tools: Record<string, ToolDescriptionJson> = {};
    for (const tool of this.tools) tools[tool.name] = tool.toJson();
    const out: ToolkitJson = {
      name: this.name,
      title: this.title,
      description: this.description,
      tools,
      public: this.public,
      annotations: { ...this.annotations },
    };
    if (this.thumbnailUrl !== undefined) out.thumbnail_url = this.thumbnailUrl;
    return out;
  }
}
