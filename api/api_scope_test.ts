import assert from "node:assert/strict";
import { AgentsGrant } from "./agents_grant.ts";
import { ApiScope } from "./api_scope.ts";
import { ApiScopeError } from "./api_scope_error.ts";
import { ContainerRegistryGrant, ContainersGrant } from "./containers_grant.ts";
import { DatasetGrant, TableGrant } from "./dataset_grant.ts";
import { LLMGrant } from "./llm_grant.ts";
import { MemoryGrant } from "./memory_grant.ts";
import { PathGrant, StorageGrant, SyncGrant } from "./path_grant.ts";
import { QueuesGrant } from "./queues_grant.ts";
import { SqliteDatabaseGrant, SqliteGrant, SqliteTableGrant } from "./sqlite_grant.ts";
import { TunnelsGrant } from "./tunnels_grant.ts";

const AGENT_KEYS = [
  "livekit",
  "queues",
  "messaging",
  "dataset",
  "sqlite",
  "memory",
  "sync",
  "storage",
  "containers",
  "developer",
  "agents",
  "llm",
  "services",
];

Deno.test("presets serialise every surface as {}", () => {
  const agent = ApiScope.agentDefault().toJson();
  assert.deepEqual(Object.keys(agent), AGENT_KEYS);
  for (const value of Object.values(agent)) assert.deepEqual(value, {});

  assert.deepEqual(
    Object.keys(ApiScope.agentDefault({ tunnels: true }).toJson()),
    [...AGENT_KEYS.slice(0, -1), "tunnels", "services"],
  );
  // userDefault follows the TS client: identical to agentDefault, llm included.
  assert.deepEqual(ApiScope.userDefault().toJson(), agent);
  assert.ok(ApiScope.userDefault().llm !== null);

  const full = ApiScope.full();
  assert.ok(full.admin !== null && full.tunnels !== null);
  assert.equal(full.secrets, null);
  assert.deepEqual(
    Object.keys(full.toJson()),
    [...AGENT_KEYS.slice(0, -1), "admin", "tunnels", "services"],
  );
});

Deno.test("absent or null top-level keys are denied; {} is the default grant", () => {
  const scope = ApiScope.fromJson({ queues: {}, messaging: null });
  assert.equal(scope.allows("queues"), true);
  assert.equal(scope.allows("messaging"), false);
  assert.equal(scope.messaging, null);
  assert.equal(scope.storage, null);
  assert.equal(scope.tunnels, null);
  assert.deepEqual(ApiScope.fromJson({}).toJson(), {});
  assert.deepEqual(new ApiScope().toJson(), {});
});

Deno.test("defaults apply when fields are absent", () => {
  const scope = ApiScope.fromJson(ApiScope.full().toJson());
  assert.equal(scope.queues?.list, true);
  assert.equal(scope.queues?.send, null);
  assert.equal(scope.messaging?.broadcast, true);
  assert.equal(scope.messaging?.list, true);
  assert.equal(scope.messaging?.send, true);
  assert.equal(scope.dataset?.listTables, true);
  assert.equal(scope.dataset?.tables, null);
  assert.equal(scope.sqlite?.createDatabase, true);
  assert.equal(scope.sqlite?.listDatabases, true);
  assert.equal(scope.memory?.list, true);
  assert.equal(scope.containers?.useContainers, true);
  assert.equal(scope.containers?.logs, true);
  assert.equal(scope.containers?.registry, null);
  assert.equal(scope.developer?.logs, true);
  const agents = scope.agents!;
  assert.deepEqual(
    [
      agents.registerAgent,
      agents.registerPublicToolkit,
      agents.registerPrivateToolkit,
      agents.call,
      agents.useAgents,
      agents.useTools,
    ],
    [true, true, true, true, true, true],
  );
  assert.equal(agents.allowedToolkits, null);
  assert.equal(scope.admin?.config, true);
  assert.equal(scope.services?.list, true);
  assert.equal(scope.tunnels?.ports, null);

  const table = new TableGrant({ name: "t" });
  assert.deepEqual([table.read, table.write, table.alter], [true, false, false]);
  const db = new SqliteDatabaseGrant({ name: "d" });
  assert.deepEqual(
    [db.createTable, db.drop, db.inspect, db.listTables, db.execute, db.tables],
    [true, false, true, true, true, null],
  );
  const sqliteTable = new SqliteTableGrant({ database: "d", table: "t" });
  assert.deepEqual([sqliteTable.read, sqliteTable.write, sqliteTable.alter], [true, false, false]);
  assert.equal(new PathGrant({ path: "a" }).readOnly, false);
});

Deno.test("only non-default fields are serialised", () => {
  const scope = new ApiScope({
    queues: new QueuesGrant({ send: ["a"], list: false }),
    dataset: new DatasetGrant({
      tables: [new TableGrant({ name: "t", read: true, write: true })],
      listTables: true,
    }),
    sqlite: new SqliteGrant({
      databases: [
        new SqliteDatabaseGrant({
          name: "main",
          execute: false,
          tables: [new SqliteTableGrant({ database: "main", table: "x", write: false })],
        }),
      ],
    }),
    agents: new AgentsGrant({ call: true, useTools: false, allowedToolkits: [] }),
    storage: new StorageGrant({ paths: [new PathGrant({ path: "p/", readOnly: true })] }),
    containers: new ContainersGrant({ registry: new ContainerRegistryGrant() }),
  });
  assert.deepEqual(scope.toJson(), {
    queues: { send: ["a"], list: false },
    dataset: { tables: [{ name: "t", write: true }] },
    sqlite: {
      databases: [{ name: "main", execute: false, tables: [{ database: "main", table: "x" }] }],
    },
    storage: { paths: [{ path: "p/", read_only: true }] },
    containers: { registry: {} },
    agents: { use_tools: false, allowed_toolkits: [] },
  });
  // JSON.stringify uses the wire form.
  assert.deepEqual(JSON.parse(JSON.stringify(scope)), scope.toJson());
  // And it round-trips.
  assert.deepEqual(ApiScope.fromJson(scope.toJson()).toJson(), scope.toJson());
});

Deno.test("dataset aliases: database and datasets are read, dataset is written", () => {
  for (const key of ["dataset", "database", "datasets"]) {
    const scope = ApiScope.fromJson({ [key]: { list_tables: false } });
    assert.equal(scope.dataset?.listTables, false, key);
    assert.deepEqual(scope.toJson(), { dataset: { list_tables: false } });
  }
});

Deno.test("camelCase variants are accepted on input", () => {
  const scope = ApiScope.fromJson({
    agents: {
      registerAgent: false,
      registerPublicToolkit: false,
      useAgents: false,
      allowedToolkits: ["x"],
    },
    storage: { paths: [{ path: "a/", readOnly: true }] },
    dataset: { listTables: false },
    containers: { useContainers: false },
    livekit: { breakoutRooms: ["b"] },
    sqlite: { createDatabase: false, databases: [{ name: "d", createTable: false }] },
  });
  assert.deepEqual(scope.toJson(), {
    livekit: { breakout_rooms: ["b"] },
    dataset: { list_tables: false },
    sqlite: { databases: [{ name: "d", create_table: false }], create_database: false },
    storage: { paths: [{ path: "a/", read_only: true }] },
    containers: { use_containers: false },
    agents: {
      register_agent: false,
      register_public_toolkit: false,
      use_agents: false,
      allowed_toolkits: ["x"],
    },
  });
});

Deno.test("wrong types fail closed with a path", () => {
  const cases: [unknown, string][] = [
    [{ queues: { send: "jobs" } }, "queues.send"],
    [{ queues: true }, "queues"],
    [{ messaging: { send: "yes" } }, "messaging.send"],
    [{ dataset: { tables: [{ write: true }] } }, "dataset.tables[0].name"],
    [{ storage: { paths: [{}] } }, "storage.paths[0].path"],
    [
      { sqlite: { databases: [{ name: "d", tables: [{}] }] } },
      "sqlite.databases[0].tables[0].table",
    ],
    [{ agents: { allowed_toolkits: [1] } }, "agents.allowed_toolkits"],
    [[], "api"],
    ["scope", "api"],
  ];
  for (const [json, path] of cases) {
    assert.throws(
      () => ApiScope.fromJson(json),
      (error: unknown) => error instanceof ApiScopeError && error.path === path,
      JSON.stringify(json),
    );
  }
});

Deno.test("queues predicates", () => {
  const grant = QueuesGrant.fromJson({ send: ["a"], receive: [], list: false });
  assert.equal(grant.canSend("a"), true);
  assert.equal(grant.canSend("b"), false);
  assert.equal(grant.canReceive("a"), false);
  assert.equal(grant.canList(), false);
});

Deno.test("sync matches exactly or by * prefix; storage by plain prefix", () => {
  const sync = SyncGrant.fromJson({ paths: [{ path: "docs/*" }, { path: "a.md" }] });
  assert.equal(sync.canRead("docs/x/y"), true);
  assert.equal(sync.canRead("docs"), false);
  assert.equal(sync.canRead("a.md"), true);
  assert.equal(sync.canRead("a.mdx"), false);

  const storage = StorageGrant.fromJson({ paths: [{ path: "docs" }] });
  assert.equal(storage.canRead("docs/x"), true);
  assert.equal(storage.canRead("docs-private/x"), true); // plain prefix, as specified
  assert.equal(storage.canRead("other"), false);
  assert.equal(storage.canWrite("other"), false);
  assert.equal(StorageGrant.fromJson({ paths: [] }).canRead("x"), false);

  // The first matching entry decides writes.
  const ordered = StorageGrant.fromJson({
    paths: [{ path: "a/", read_only: true }, { path: "a/b/" }],
  });
  assert.equal(ordered.canWrite("a/b/c"), false);
  assert.equal(ordered.canRead("a/b/c"), true);
});

Deno.test("dataset table grants and namespaces", () => {
  const grant = DatasetGrant.fromJson({
    tables: [
      { name: "any_ns", write: true },
      { name: "scoped", namespace: ["x", "y"], alter: true },
    ],
  });
  assert.equal(grant.canWrite("any_ns"), true);
  assert.equal(grant.canWrite("any_ns", ["z"]), true);
  assert.equal(grant.canAlter("scoped", ["x", "y"]), true);
  assert.equal(grant.canRead("scoped", ["x"]), false);
  assert.equal(grant.canRead("scoped"), false);
  assert.equal(grant.canAccess("unknown"), false);
});

Deno.test("sqlite: absent write means false (PY default); database and table checks", () => {
  const grant = SqliteGrant.fromJson({
    databases: [
      { name: "main", tables: [{ database: "main", table: "notes" }] },
      { name: "open", drop: true },
    ],
    create_database: false,
  });
  assert.equal(grant.canRead("main", "notes"), true);
  assert.equal(grant.canWrite("main", "notes"), false);
  assert.equal(grant.canRead("main", "other"), false);
  assert.equal(grant.canWrite("open", "anything"), true);
  assert.equal(grant.canDrop("open"), true);
  assert.equal(grant.canDrop("main"), false);
  assert.equal(grant.canCreateDatabase("main"), false);
  assert.equal(grant.canAccessDatabase("missing"), false);
  assert.equal(grant.database("missing"), null);
  assert.equal(new SqliteGrant().database("x"), "unrestricted");
});

Deno.test("agents, llm, containers, tunnels, memory predicates", () => {
  const agents = AgentsGrant.fromJson({ allowed_toolkits: ["a"] });
  assert.equal(agents.canCallToolkit("a"), true);
  assert.equal(agents.canCallToolkit("b"), false);
  assert.equal(AgentsGrant.fromJson({ call: false }).canCallToolkit("a"), false);
  assert.equal(AgentsGrant.fromJson({ use_agents: false }).canCallAgents(), false);
  assert.equal(AgentsGrant.fromJson({ use_tools: false }).canListToolkits(), false);
  assert.equal(
    AgentsGrant.fromJson({ register_private_toolkit: false }).canRegisterToolkit(false),
    false,
  );

  const llm = LLMGrant.fromJson({ models: ["openai/gpt-4o", "anthropic/*"] });
  assert.equal(llm.canUseModel("openai", "gpt-4o"), true);
  assert.equal(llm.canUseModel("openai", "gpt-4o-mini"), false);
  assert.equal(llm.canUseModel("anthropic", "claude-x"), true);
  assert.equal(llm.canUseProvider("google"), false);
  assert.equal(new LLMGrant().canUseModel("", "x"), false);

  const containers = ContainersGrant.fromJson({
    use_containers: false,
    registry: { list: ["a/*"], pull: ["b"] },
  });
  assert.equal(containers.canRun("x"), false);
  assert.equal(containers.canRegistryList("a/x"), true);
  assert.equal(containers.canRegistryList("b"), false);
  assert.equal(containers.canRegistryPull("b"), true);
  assert.equal(new ContainerRegistryGrant({ pull: ["b"] }).canList("b"), true);
  assert.equal(new ContainerRegistryGrant({ pull: ["b"] }).canList("c"), false);

  assert.equal(TunnelsGrant.fromJson({ ports: ["80", "443"] }).canUsePort(443), true);
  assert.equal(TunnelsGrant.fromJson({ ports: ["80"] }).canUsePort(8080), false);

  const memory = MemoryGrant.fromJson({
    memories: [{ name: "m", namespace: ["n"], permissions: { ingest: false } }],
  });
  assert.equal(memory.can("m", "recall", ["n"]), true);
  assert.equal(memory.can("m", "ingest", ["n"]), false);
  assert.equal(memory.can("m", "recall"), false);
  assert.equal(memory.canAccessExisting("m", ["n"]), true);
});

Deno.test("the npm client 0.39.9 agentDefault scope parses (secrets present, sqlite absent)", () => {
  const scope = ApiScope.fromJson({
    livekit: {},
    queues: {},
    messaging: {},
    dataset: {},
    memory: {},
    sync: {},
    storage: {},
    containers: {},
    developer: {},
    agents: {},
    llm: {},
    secrets: {},
    services: {},
  });
  assert.equal(scope.sqlite, null);
  assert.ok(scope.secrets !== null);
  assert.equal(scope.secrets.canRequestOauthToken("https://idp", "c"), true);
  assert.equal(scope.queues?.canSend("x"), true);
  assert.equal(scope.admin, null);
});
