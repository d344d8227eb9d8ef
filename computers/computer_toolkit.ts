import { FileContent, type JsonObject, type RoomClient } from "@meshagent/api";
import { FunctionTool, type Tool, type ToolContext, Toolkit } from "@meshagent/tools";
import type { NativeTool, ToolOutputPart } from "@meshagent/agents";
import type { Computer, ComputerDimensions } from "./computer.ts";
import { LocalBrowserComputer } from "./local_browser_computer.ts";
import { computerCallOutput, Operator } from "./operator.ts";
import { checkUrl } from "./url_blocklist.ts";

/** The provider API whose native `computer` tool the `computer_call` tool is. */
const RESPONSES_API = "openai.responses";

/** Options of a {@linkcode ComputerToolkit}. */
export interface ComputerToolkitOptions {
  /** The toolkit name (default `meshagent.openai.computer`, as the official one). */
  name?: string;
  /** The computer (default: a {@linkcode LocalBrowserComputer}). */
  computer?: Computer;
  /** The screen size of the default computer. */
  dimensions?: ComputerDimensions;
  /** The page the default computer opens on start. */
  startingUrl?: string;
  /** Plays the computer calls (default: an {@linkcode Operator} with the default blocklist). */
  operator?: Operator;
  /** The room screenshots are saved to when the call has none (tools run in a room normally). */
  room?: RoomClient;
  /** Add the `goto` tool (`--allow-goto-url`; default false). */
  includeGotoTool?: boolean;
  /** Receives every screen the model is shown (a UI, a recording). */
  renderScreen?: (png: Uint8Array) => void | Promise<void>;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The computer of a toolkit, started once, shared by its tools. */
class ComputerSession {
  readonly computer: Computer;
  readonly operator: Operator;
  readonly room: RoomClient | undefined;
  readonly #render?: (png: Uint8Array) => void | Promise<void>;
  #starting: Promise<void> | null = null;

  constructor(options: ComputerToolkitOptions) {
    this.computer = options.computer ??
      new LocalBrowserComputer({
        dimensions: options.dimensions,
        startingUrl: options.startingUrl,
      });
    this.operator = options.operator ?? new Operator();
    this.room = options.room;
    this.#render = options.renderScreen;
  }

  async ensureStarted(context?: ToolContext): Promise<Computer> {
    this.#starting ??= this.computer.start({
      emit: (event) => {
        context?.emit({ source: "stdout", text: `${event.kind}: ${event.state}` }).catch(() => {});
      },
    }).catch((error) => {
      this.#starting = null;
      throw error;
    });
    await this.#starting;
    return this.computer;
  }

  async stop(): Promise<void> {
    this.#starting = null;
    await this.computer.stop();
  }

  async render(png: Uint8Array): Promise<void> {
    await this.#render?.(png);
  }
}

/**
 * The `computer_call` tool: OpenAI's native `computer` tool (`{"type": "computer"}`) for the
 * Responses adapter, which hands it each `computer_call` item; it plays the item with the
 * {@linkcode Operator} and returns the screenshot, which the adapter sends back as the
 * `computer_call_output`.
 */
class ComputerCallTool extends FunctionTool implements NativeTool {
  readonly #toolkit: ComputerSession;

  constructor(toolkit: ComputerSession) {
    super({
      name: "computer_call",
      title: "computer_call",
      description: "handle computer tool calls",
      inputSchema: { type: "object" },
    });
    this.#toolkit = toolkit;
  }

  override async run(context: ToolContext, item: JsonObject): Promise<FileContent> {
    const computer = await this.#toolkit.ensureStarted(context);
    const outputs = await this.#toolkit.operator.play(computer, {
      type: "computer_call",
      ...item,
    });
    const output = outputs[0]?.output as JsonObject | undefined;
    const url = String(output?.image_url ?? "");
    const png = decodeBase64(url.slice(url.indexOf(",") + 1));
    await this.#toolkit.render(png);
    return new FileContent(png, "screenshot.png", "image/png");
  }

  nativeDefinitions(api: string): JsonObject[] | null {
    return api === RESPONSES_API ? [{ type: "computer" }] : null;
  }

  nativeCallTypes(api: string): readonly string[] {
    return api === RESPONSES_API ? ["computer_call"] : [];
  }

  nativeOutput(
    _api: string,
    call: JsonObject,
    output: readonly ToolOutputPart[],
  ): JsonObject | null {
    const image = output.find((part) =>
      part.type === "image" || (part.type === "file" && part.mimeType.startsWith("image/"))
    ) as { data: string } | undefined;
    return image ? computerCallOutput(call, image.data) : null;
  }
}

/**
 * The computer-use toolkit of an agent (agents-sources.md §5, `meshagent.openai.computer`):
 *
 * - `computer_call`: OpenAI's native computer tool — each `computer_call` of the model is played on
 *   the computer and answered with a screenshot;
 * - `screenshot` (`save_path`, `full_page`): saves a PNG of the screen to room storage;
 * - `goto` (`url`), only with `includeGotoTool`: opens a URL (`https://` added when missing).
 *
 * The computer starts on first use (or {@linkcode start}); {@linkcode stop} closes it. URLs on
 * the operator's blocklist are refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ComputerToolkit } from "@meshagent/computers";
 * const toolkit = new ComputerToolkit({ includeGotoTool: true });
 * assert.deepEqual(toolkit.tools.map((t) => t.name), ["computer_call", "screenshot", "goto"]);
 * await toolkit.stop();
 * ```
 */
export class ComputerToolkit extends Toolkit {
  /** The computer. */
  readonly computer: Computer;
  /** The operator that plays the calls. */
  readonly operator: Operator;
  readonly #session: ComputerSession;

  /**
   * Creates the value. The computer starts on first use.
   *
   * @param options Computer, operator, room, tools.
   */
  constructor(options: ComputerToolkitOptions = {}) {
    const session = new ComputerSession(options);
    const tools: Tool[] = [new ComputerCallTool(session), screenshotTool(session)];
    if (options.includeGotoTool) tools.push(gotoTool(session));
    super({
      name: options.name ?? "meshagent.openai.computer",
      title: "computer",
      description: "use a computer (a web browser) by looking at its screen",
      tools,
    });
    this.#session = session;
    this.computer = session.computer;
    this.operator = session.operator;
  }

  /** Starts the computer now (it also starts on first use). */
  async start(): Promise<void> {
    await this.#session.ensureStarted();
  }

  /** Stops the computer. */
  async stop(): Promise<void> {
    await this.#session.stop();
  }
}

function screenshotTool(session: ComputerSession): Tool {
  return new FunctionTool<{ save_path: string; full_page: boolean }>({
    name: "screenshot",
    description: "take a screenshot of the current page and save it to room storage",
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["full_page", "save_path"],
      properties: {
        full_page: { type: "boolean" },
        save_path: {
          type: "string",
          description: "a file path to save the screenshot to (should end with .png)",
        },
      },
    },
    run: async (context, { save_path, full_page }) => {
      const room = context.room ?? session.room;
      if (!room) throw new Error("screenshot needs a room to save to (run it in a room)");
      const computer = await session.ensureStarted(context);
      const png = await computer.screenshot({ fullPage: full_page });
      const path = save_path.replace(/^\/+/, "");
      await room.storage.upload(path, png, { mimeType: "image/png", overwrite: true });
      await session.render(png);
      return `saved screenshot to ${path}`;
    },
  }) as unknown as Tool;
}

function gotoTool(session: ComputerSession): Tool {
  return new FunctionTool<{ url: string }>({
    name: "goto",
    description: "goes to a specific URL. Make sure it starts with http:// or https://",
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["url"],
      properties: { url: { type: "string", description: "Fully qualified URL to navigate to." } },
    },
    run: async (context, { url }) => {
      const target = /^https?:\/\//i.test(url) ? url : `https://${url}`;
      checkUrl(target, session.operator.blockedDomains);
      const computer = await session.ensureStarted(context);
      await computer.goto(target);
      await session.render(await computer.screenshot());
      return `opened ${await computer.getCurrentUrl()}`;
    },
  }) as unknown as Tool;
}
