// A small MCP server for tests: the MCP SDK's low-level `Server` on 127.0.0.1 and a free port,
// either behind `WebStandardStreamableHTTPServerTransport` behind `Deno.serve` (streamable HTTP,
// `startTestServer`) or behind the SDK's `SSEServerTransport` behind `node:http` (the older
// HTTP+SSE transport, `startSseTestServer`). It lists its tools two per page (to exercise
// pagination), checks a bearer token, and can add a tool and announce it with
// `notifications/tools/list_changed`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@modelcontextprotocol/sdk/server";
// @ts-types="@modelcontextprotocol/sdk/server/sse"
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

/** The token the test server expects in `Authorization: Bearer …`. */
export const TEST_TOKEN = "t0ken";

/** A 1x1 transparent PNG, base64. */
export const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

type ToolDef = {
  name: string;
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
};

const BASE_TOOLS: ToolDef[] = [
  {
    name: "ping",
    title: "Ping",
    description: "Answers pong",
    inputSchema: { type: "object", properties: {} },
    annotations: { readOnlyHint: true },
  },
  {
    name: "multi",
    description: "A caption, an image, a link and an embedded resource",
    inputSchema: { type: "object", properties: {} },
  },
  {
    name: "fail",
    description: "Always fails with isError",
    inputSchema: { type: "object", properties: { why: { type: "string" } }, required: ["why"] },
  },
  {
    name: "slow",
    description: "Waits until cancelled",
    inputSchema: { type: "object", properties: {} },
  },
  {
    name: "add",
    description: "Adds two numbers, structured",
    inputSchema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
    outputSchema: {
      type: "object",
      properties: { sum: { type: "number" } },
      required: ["sum"],
    },
  },
];

/** A running test server. */
export interface TestServer {
  /** The MCP endpoint. */
  url: string;
  /** How many `tools/call` requests arrived, by tool name. */
  calls: Map<string, number>;
  /** How many `slow` calls were cancelled by the client. */
  cancelled: number;
  /** Adds a tool named `name` (answers its name) and announces the change to every session. */
  addTool(name: string): Promise<void>;
  /** Closes every session and the HTTP server. */
  close(): Promise<void>;
}

/** The tools, the sessions' servers and the counters one test server shares by its sessions. */
interface Shared {
  state: TestServer;
  tools: ToolDef[];
  servers: Set<Server>;
}

function shared(close: () => Promise<void>): Shared {
  const tools = [...BASE_TOOLS];
  const servers = new Set<Server>();
  const state: TestServer = {
    url: "",
    calls: new Map(),
    cancelled: 0,
    addTool: async (name) => {
      tools.push({ name, description: `Answers ${name}`, inputSchema: { type: "object" } });
      for (const server of servers) await server.sendToolListChanged();
    },
    close,
  };
  return { state, tools, servers };
}

/** One MCP session's server: the tools of `shared`, counted in its state. */
function makeServer({ state, tools, servers }: Shared): Server {
  const server = new Server(
    { name: "test-server", version: "1.2.3" },
    { capabilities: { tools: { listChanged: true } }, instructions: "Use ping to check." },
  );
  servers.add(server);
  server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const start = Number(request.params?.cursor ?? "0");
    const page = tools.slice(start, start + 2);
    const next = start + 2 < tools.length ? String(start + 2) : undefined;
    return { tools: page, ...(next ? { nextCursor: next } : {}) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    state.calls.set(name, (state.calls.get(name) ?? 0) + 1);
    const args = request.params.arguments ?? {};
    switch (name) {
      case "ping":
        return { content: [{ type: "text", text: "pong" }] };
      case "multi":
        return {
          content: [
            { type: "text", text: "a picture:" },
            { type: "image", data: PNG_BASE64, mimeType: "image/png" },
            { type: "resource_link", uri: "https://example.com/doc", name: "doc", title: "Doc" },
            {
              type: "resource",
              resource: { uri: "file:///tmp/notes", mimeType: "text/markdown", text: "# hi" },
            },
          ],
        };
      case "fail":
        return { content: [{ type: "text", text: `failed: ${args.why}` }], isError: true };
      case "slow":
        await new Promise<void>((resolve) => {
          if (extra.signal.aborted) resolve();
          extra.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        state.cancelled++;
        return { content: [{ type: "text", text: "cancelled" }] };
      case "add": {
        const sum = Number(args.a) + Number(args.b);
        return {
          content: [{ type: "text", text: JSON.stringify({ sum }) }],
          structuredContent: { sum },
        };
      }
      default:
        if (tools.some((t) => t.name === name)) {
          return { content: [{ type: "text", text: name }] };
        }
        return { content: [{ type: "text", text: `unknown tool ${name}` }], isError: true };
    }
  });
  return server;
}

/** Starts the streamable HTTP server; its endpoint is `/mcp`. */
export function startTestServer(): Promise<TestServer> {
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const sessions = shared(async () => {
    for (const transport of transports.values()) await transport.close();
    for (const server of sessions.servers) await server.close();
    await http.shutdown();
  });
  const state = sessions.state;

  let http: Deno.HttpServer<Deno.NetAddr>;
  return new Promise((resolve) => {
    http = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => {
        state.url = `http://127.0.0.1:${port}/mcp`;
        resolve(state);
      },
    }, async (req) => {
      if (new URL(req.url).pathname !== "/mcp") return new Response("not found", { status: 404 });
      if (req.headers.get("authorization") !== `Bearer ${TEST_TOKEN}`) {
        return new Response("unauthorized", { status: 401 });
      }
      const sessionId = req.headers.get("mcp-session-id");
      if (sessionId) {
        const transport = transports.get(sessionId);
        if (!transport) return new Response("unknown session", { status: 404 });
        return await transport.handleRequest(req);
      }
      const server = makeServer(sessions);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, transport),
        onsessionclosed: (id) => void transports.delete(id),
      });
      await server.connect(transport);
      return await transport.handleRequest(req);
    });
  });
}

/** A running SSE test server. */
export interface SseTestServer extends TestServer {
  /** Ends every open SSE stream (each session ends; the HTTP server keeps listening). */
  dropSessions(): Promise<void>;
}

/**
 * Starts the HTTP+SSE server: `GET /sse` opens a session's event stream (its first event names
 * `/messages?sessionId=…`, where the client POSTs). Besides, `GET /silent` opens an event stream
 * that never names an endpoint, and `GET /html` answers a web page rather than a stream.
 */
export function startSseTestServer(): Promise<SseTestServer> {
  const transports = new Map<string, SSEServerTransport>();
  const silent = new Set<ServerResponse>();
  const endSessions = async () => {
    for (const transport of [...transports.values()]) await transport.close();
    for (const res of silent) res.end();
    silent.clear();
  };
  const sessions = shared(async () => {
    await endSessions();
    for (const server of [...sessions.servers]) await server.close();
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  });
  const state: SseTestServer = Object.assign(sessions.state, { dropSessions: endSessions });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.headers.authorization !== `Bearer ${TEST_TOKEN}`) {
      res.writeHead(401).end("unauthorized");
      return;
    }
    if (req.method === "GET" && url.pathname === "/sse") {
      const server = makeServer(sessions);
      const transport = new SSEServerTransport("/messages", res);
      transports.set(transport.sessionId, transport);
      server.onclose = () => {
        transports.delete(transport.sessionId);
        sessions.servers.delete(server);
      };
      await server.connect(transport);
    } else if (req.method === "POST" && url.pathname === "/messages") {
      const transport = transports.get(url.searchParams.get("sessionId") ?? "");
      if (!transport) {
        res.writeHead(404).end("unknown session");
        return;
      }
      await transport.handlePostMessage(req, res);
    } else if (req.method === "GET" && url.pathname === "/silent") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(": no endpoint event will follow\n\n");
      silent.add(res);
      res.on("close", () => silent.delete(res));
    } else if (req.method === "GET" && url.pathname === "/html") {
      res.writeHead(200, { "content-type": "text/html" }).end("<p>not an event stream</p>");
    } else {
      res.writeHead(404).end("not found");
    }
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
  });
  return new Promise((resolve) => {
    http.listen(0, "127.0.0.1", () => {
      state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/sse`;
      resolve(state);
    });
  });
}
