// A ServiceHost (api) called into rooms by our server: by a participant's room.call (our client
// and the official one), and as a room service registered over REST; the service hosts a toolkit
// another participant calls; a dismiss message, or the room ending, removes it.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  JsonContent,
  Meshagent,
  type RoomClient,
  RoomError,
  type RoomService,
  ServiceHost,
  ServicesClient,
} from "@meshagent/api";
import { FunctionTool, type HostedToolkit, startHostedToolkit, Toolkit } from "@meshagent/tools";
import { startTestServer } from "@meshagent/server/testing";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");

const SECRET = "service-secret";

/** A service that hosts `math-toolkit` (add) in the room it is called into. */
function mathService(): RoomService {
  let hosted: HostedToolkit | undefined;
  return {
    async start({ room }) {
      hosted = await startHostedToolkit(
        room,
        new Toolkit({
          name: "math-toolkit",
          public: true,
          tools: [
            new FunctionTool<{ a: number; b: number }>({
              name: "add",
              inputSchema: {
                type: "object",
                properties: { a: { type: "number" }, b: { type: "number" } },
                required: ["a", "b"],
                additionalProperties: false,
              },
              run: (_ctx, { a, b }) => ({ sum: a + b }),
            }),
          ],
        }),
      );
    },
    async stop() {
      await hosted?.stop();
    },
  };
}

function serveHost(secret = SECRET) {
  const host = new ServiceHost({ secret, reconnectTimeout: 0 });
  let made = 0;
  host.addPath("/math", () => {
    made++;
    return mathService();
  }, { identity: "math-tools" });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, host.fetch);
  return {
    host,
    url: `http://127.0.0.1:${server.addr.port}/math`,
    made: () => made,
    async close() {
      await host.close();
      await server.shutdown();
    },
  };
}

function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const tick = async () => {
      try {
        if (await check()) return resolve();
      } catch { /* try again */ }
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out: ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

async function toolkits(room: RoomClient): Promise<string[]> {
  return (await room.agents.listToolkits()).map((t) => t.name);
}

async function add(room: RoomClient, a: number, b: number): Promise<unknown> {
  const result = await room.agents.invokeTool({
    toolkit: "math-toolkit",
    tool: "add",
    arguments: { a, b },
  });
  assert(result instanceof JsonContent);
  return result.json;
}

Deno.test("ServiceHost: room.call brings the service in; its tool works; dismiss removes it", async () => {
  const service = serveHost();
  await using server = await startTestServer({ server: { webhookSecret: SECRET } });
  const alice = await server.connect("called", "alice");
  try {
    await new ServicesClient(alice).call({
      name: "math-tools",
      url: service.url,
      arguments: { why: "test" },
    });
    await until(
      "math-toolkit in the room",
      async () => (await toolkits(alice)).includes("math-toolkit"),
    );
    assert.deepEqual(await add(alice, 5, 7), { sum: 12 });
    assert.equal(service.host.sessions, 1);

    // Dismiss it by name: it stops, its toolkit goes, its connection closes.
    await alice.messaging.enable();
    await until(
      "math-tools visible",
      () => alice.messaging.getParticipantByName("math-tools") !== undefined,
    );
    const agent = alice.messaging.getParticipantByName("math-tools")!;
    assert.equal(agent.getAttribute("role"), "agent");
    await alice.messaging.sendMessage({ to: agent, type: "dismiss", message: {} });
    await until("the service stopped", () => service.host.sessions === 0);
    await until("math-toolkit gone", async () => !(await toolkits(alice)).includes("math-toolkit"));
    await until(
      "math-tools left",
      () => alice.messaging.getParticipantByName("math-tools") === undefined,
    );
  } finally {
    await alice.dispose();
    await service.close();
  }
});

Deno.test("ServiceHost: the official client's room.call works the same", async () => {
  const service = serveHost();
  await using server = await startTestServer({ server: { webhookSecret: SECRET } });
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl("official-call"),
      token: await server.token("official-call", "bob"),
    }),
    reconnectTimeout: 0,
  });
  official.ready.catch(() => {});
  await official.start();
  const watcher = await server.connect("official-call", "watcher");
  try {
    await official.call({ name: "math-tools", url: service.url, arguments: {} });
    await until("math-toolkit", async () => (await toolkits(watcher)).includes("math-toolkit"));
    const result = await official.agents.invokeTool({
      toolkit: "math-toolkit",
      tool: "add",
      arguments: { a: 2, b: 3 },
    });
    assert.deepEqual(result.json, { sum: 5 });
  } finally {
    official.dispose();
    await official.waitForClose();
    await watcher.dispose();
    await service.close();
  }
});

Deno.test("ServiceHost: a call the service refuses (wrong secret) fails with the reason", async () => {
  const service = serveHost("another-secret");
  await using server = await startTestServer({
    server: { webhookSecret: SECRET, webhookDelivery: { firstRetryMs: 10, onGiveUp() {} } },
  });
  const alice = await server.connect("refused", "alice");
  try {
    await assert.rejects(
      new ServicesClient(alice).call({ name: "math-tools", url: service.url }),
      (e) => e instanceof RoomError && e.code === 1008 && /HTTP 401/.test(e.message),
    );
    assert.equal(service.made(), 0);
    // Without the agents grant, room.call is refused before anything is sent.
    const limited = await server.connect("refused", "limited", {
      api: (await import("@meshagent/api")).ApiScope.fromJson({ agents: { call: false } }),
    });
    await assert.rejects(
      new ServicesClient(limited).call({ name: "x", url: service.url }),
      (e) => e instanceof RoomError && e.code === 1001,
    );
    await limited.dispose();
  } finally {
    await alice.dispose();
    await service.close();
  }
});

Deno.test("ServiceHost: a room service (REST) is called in when the room starts and leaves when it ends", async () => {
  const service = serveHost();
  await using server = await startTestServer({ server: { webhookSecret: SECRET } });
  try {
    const api = new Meshagent({ baseUrl: server.url, apiKey: server.apiKey });
    const projectId = (await api.whoami()).project_id as string;
    const base = service.url.replace(/\/math$/, "");
    await api.createRoom(projectId, { name: "with-services" });
    const spec = await api.createService(projectId, {
      version: "v1",
      kind: "Service",
      metadata: { name: "math" },
      external: { url: base },
      ports: [{
        num: "*",
        type: "http",
        endpoints: [{ path: "/math", meshagent: { identity: "math-tools" } }],
      }],
    }, { room: "with-services" });

    const alice = await server.connect("with-services", "alice");
    await until("math-toolkit", async () => (await toolkits(alice)).includes("math-toolkit"));
    assert.deepEqual(await add(alice, 1, 1), { sum: 2 });
    const services = new ServicesClient(alice);
    await until(
      "running",
      async () => (await services.list()).states.get(spec.id)?.state === "running",
    );
    const listed = await services.list();
    assert.deepEqual(listed.services.map((s) => s.id), [spec.id]);

    // The official client reads the same list (services_json are JSON strings).
    const official = new mesh.ServicesClient({
      room: {
        invoke: async (request: { toolkit: string; tool: string; input: unknown }) => {
          const content = await alice.invoke({
            toolkit: request.toolkit,
            tool: request.tool,
            input: request.input as Record<string, unknown>,
          });
          return new mesh.JsonContent({ json: (content as JsonContent).json });
        },
      },
    });
    const withState = await official.listWithState();
    assert.equal(withState.services[0].metadata.name, "math");
    assert.equal(withState.serviceStates[spec.id].state, "running");

    // Restart: called in again (a second session; its restart_count says so).
    await services.restart(spec.id);
    await until("two sessions", () => service.made() === 2);
    assert.equal((await services.list()).states.get(spec.id)?.restartCount, 1);
    await assert.rejects(
      services.restart("nope"),
      (e) => e instanceof RoomError && e.code === 7001,
    );

    // The room's own services do not keep it open: when alice leaves, it ends and they go.
    await alice.dispose();
    await until("the services stopped", () => service.host.sessions === 0);
  } finally {
    await service.close();
  }
});
