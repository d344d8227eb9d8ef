// Private helpers for the server tests: a raw participant connection over a WebSocket driven by
// the shared Protocol, and a raw HTTP handshake to read refusal statuses.
import {
  type Content,
  contentFromJson,
  ControlContent,
  EmptyContent,
  JsonContent,
  type JsonObject,
  PacketAssembler,
  packMessage,
  Protocol,
  type ProtocolMessage,
  unpackMessage,
} from "@meshagent/api";

/** One received event, unpacked. */
export interface Received {
  id: number;
  type: string;
  header: JsonObject;
  payload: Uint8Array;
}

const DEFAULT_WAIT = 5000;

/** A raw participant connection for tests. */
export class TestClient {
  readonly socket: WebSocket;
  readonly protocol: Protocol;
  readonly closed: Promise<CloseEvent>;
  readonly #inbox: Received[] = [];
  /** Every complete incoming message (type and id), responses included, in arrival order. */
  readonly log: { type: string; id: number }[] = [];
  readonly #sniffer = new PacketAssembler({ maxMessageSize: 1 << 30 });
  #waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  roomReady!: JsonObject;
  init!: JsonObject;

  private constructor(socket: WebSocket, chunkSize?: number) {
    this.socket = socket;
    this.protocol = new Protocol({
      send: (frame) => socket.readyState === WebSocket.OPEN && socket.send(frame),
      close: (code, reason) => socket.close(code, reason),
    }, { maxMessageSize: 1 << 30, chunkSize });
    this.protocol.onUnhandled((m: ProtocolMessage) => {
      let header: JsonObject = {};
      let payload: Uint8Array = new Uint8Array(0);
      try {
        ({ header, payload } = unpackMessage(m.data));
      } catch { /* keep raw */ }
      this.#deliver({ id: m.id, type: m.type, header, payload });
    });
    this.protocol.onError(() => {});
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => {
      if (!(e.data instanceof ArrayBuffer)) return;
      const frame = new Uint8Array(e.data);
      try {
        const m = this.#sniffer.push(frame);
        if (m) this.log.push({ type: m.type, id: m.id });
      } catch { /* the protocol reports it */ }
      this.protocol.receive(frame);
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (e) => {
        this.protocol.closed(e.code, e.reason);
        resolve(e);
      };
    });
  }

  /**
   * Connects and waits for `room_ready` and `connected`.
   *
   * @param chunkSize Data bytes per outgoing packet (default 1024, as the official clients).
   */
  static async connect(
    url: string,
    token: string,
    transport: "header" | "subprotocol" | "query" = "header",
    chunkSize?: number,
  ): Promise<TestClient> {
    let socket: WebSocket;
    if (transport === "query") {
      const u = new URL(url);
      u.searchParams.set("token", token);
      socket = new WebSocket(u);
    } else if (transport === "subprotocol") {
      socket = new WebSocket(url, [`meshagent-room.${token}`]);
    } else {
      const Ctor = WebSocket as unknown as new (
        url: string,
        options: { headers: Record<string, string> },
      ) => WebSocket;
      socket = new Ctor(url, { headers: { authorization: `Bearer ${token}` } });
    }
    const client = new TestClient(socket, chunkSize);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
    });
    client.roomReady = (await client.next("room_ready")).header;
    client.init = (await client.next("connected")).header;
    return client;
  }

  get id(): string {
    return this.init.participantId as string;
  }

  #deliver(r: Received): void {
    const i = this.#waiters.findIndex((w) => w.match(r));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w.resolve(r);
    } else {
      this.#inbox.push(r);
    }
  }

  /** Waits for the next event of a type (and matching a predicate). */
  next(
    type: string,
    predicate: (r: Received) => boolean = () => true,
    timeout = DEFAULT_WAIT,
  ): Promise<Received> {
    const match = (r: Received) => r.type === type && predicate(r);
    const i = this.#inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${type}`));
      }, timeout);
      this.#waiters.push(waiter);
    });
  }

  /** Waits for a `messaging.send` event of a given message type. */
  message(type: string, timeout = DEFAULT_WAIT): Promise<Received> {
    return this.next("messaging.send", (r) => r.header.type === type, timeout);
  }

  /** Events received and not yet taken. */
  pending(type?: string): Received[] {
    return this.#inbox.filter((r) => type === undefined || r.type === type);
  }

  /** Sends a raw request and waits for its response content (errors reject as RoomError). */
  request(type: string, header: JsonObject, payload?: Uint8Array): Promise<Content> {
    return this.protocol.request(type, packMessage(header, payload), { timeout: DEFAULT_WAIT });
  }

  /** Invokes a tool with a json input (or a given content). */
  invoke(
    toolkit: string,
    tool: string,
    input: JsonObject | Content = {},
    extra: JsonObject = {},
  ): Promise<Content> {
    const content = isContent(input) ? input : new JsonContent(input);
    return this.request(
      "room.invoke_tool",
      { toolkit, tool, arguments: content.toJson(), ...extra },
      content.payload,
    );
  }

  /** Sends an event (no response expected); returns its message id. */
  send(type: string, header: JsonObject, payload?: Uint8Array): number {
    return this.protocol.sendPacked(type, header, payload);
  }

  /** True when a `__response__` with this id arrived. */
  answered(id: number): boolean {
    return this.log.some((m) => m.type === "__response__" && m.id === id);
  }

  /** Opens a streamed-input call; returns helpers to send chunks. */
  async openStream(toolkit: string, tool: string, toolCallId: string): Promise<Content> {
    return await this.request("room.invoke_tool", {
      toolkit,
      tool,
      tool_call_id: toolCallId,
      arguments: ControlContent.open().toJson(),
    });
  }

  /** Sends one request chunk and waits for its response. */
  chunk(toolCallId: string, content: Content): Promise<Content> {
    return this.request(
      "room.tool_call_request_chunk",
      { tool_call_id: toolCallId, chunk: content.toJson() },
      content.payload,
    );
  }

  /** Waits for the next response chunk of a call, as a Content. */
  async responseChunk(toolCallId: string, timeout = DEFAULT_WAIT): Promise<Content> {
    const r = await this.next(
      "room.tool_call_response_chunk",
      (m) => m.header.tool_call_id === toolCallId,
      timeout,
    );
    return contentFromJson(r.header.chunk as JsonObject, r.payload);
  }

  /** Closes with 1000 and waits for the close to finish. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000);
    await this.closed;
  }
}

function isContent(value: unknown): value is Content {
  return value instanceof JsonContent || value instanceof EmptyContent ||
    (value !== null && typeof value === "object" && typeof (value as Content).pack === "function");
}

/** Sends a raw WebSocket handshake; returns the HTTP status, headers and body text. */
export async function handshake(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  // Nothing hangs: a server that never answers fails the read after 5 s.
  const timer = setTimeout(() => conn.close(), DEFAULT_WAIT);
  try {
    const lines = [
      `GET ${u.pathname}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    let text = "";
    const buf = new Uint8Array(4096);
    const decoder = new TextDecoder();
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      const head = text.slice(0, end).split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const out: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      if (status === 101) return { status, headers: out, body: "" };
      const length = Number(out["content-length"] ?? 0);
      while (new TextEncoder().encode(text.slice(end + 4)).length < length) {
        const m = await conn.read(buf);
        if (m === null) break;
        text += decoder.decode(buf.subarray(0, m));
      }
      return { status, headers: out, body: text.slice(end + 4) };
    }
    throw new Error("connection closed before a response");
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** Sends raw frames on a test client's socket. */
export function sendRaw(client: TestClient, frame: Uint8Array): void {
  client.socket.send(frame);
}
