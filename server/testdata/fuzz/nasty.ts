// Hand-made hostile seed inputs of the fuzz targets (capture.ts adds them to the corpus files):
// limits at their boundaries, ids and lengths outside the safe range, malformed UTF-8 and JSON,
// and requests that break each toolkit's argument rules.
import { ControlContent, packMessage } from "@meshagent/api";
import type { FuzzValue } from "../../_fuzz_mutator.ts";
import { SCHEMA_JSON } from "../../../api/testdata/sync_page_schema.ts";

/** One hand-made entry. */
export interface NastyEntry {
  name: string;
  input: FuzzValue;
}

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function id64(high: number, low: number): number[] {
  return [...u32(high), ...u32(low)];
}

function bytes(...parts: (number[] | Uint8Array)[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

const text = (s: string) => new TextEncoder().encode(s);
const header = (id: [number, number], count: number, type: string | Uint8Array) =>
  bytes(id64(...id), u32(0), u32(count), typeof type === "string" ? text(type) : type);
const data = (id: [number, number], index: number, payload: Uint8Array) =>
  bytes(id64(...id), u32(index), payload);
const packed = (json: string, payload: Uint8Array = new Uint8Array(0)) =>
  bytes(u32(0), u32(text(json).length), text(json), payload);
const deep = (d: number) => "[".repeat(d) + "]".repeat(d);

const invoke = packMessage({
  toolkit: "messaging",
  tool: "send",
  arguments: { type: "json", json: { to_participant_id: "x", type: "t", message_json: "{}" } },
});

const FRAMES: NastyEntry[] = [
  { name: "empty frame", input: [new Uint8Array(0)] },
  { name: "11-byte frame", input: [new Uint8Array(11)] },
  { name: "header of 12 bytes (no count)", input: [new Uint8Array(12)] },
  { name: "header count 2^32-1", input: [header([0, 1], 0xffff_ffff, "room.invoke_tool")] },
  {
    name: "id 2^64-1, one packet",
    input: [
      header([0xffff_ffff, 0xffff_ffff], 1, "x"),
      data([0xffff_ffff, 0xffff_ffff], 1, invoke),
    ],
  },
  {
    name: "id 2^53, one packet",
    input: [header([0x20_0000, 0], 1, "room.invoke_tool"), data([0x20_0000, 0], 1, invoke)],
  },
  { name: "data packet without a header", input: [data([0, 1], 1, invoke)] },
  { name: "data index 2^32-1", input: [header([0, 1], 2, "x"), data([0, 1], 0xffff_ffff, invoke)] },
  {
    name: "data of another id",
    input: [header([0, 1], 1, "x"), data([0, 2], 1, invoke), data([0, 1], 1, invoke)],
  },
  { name: "type not UTF-8", input: [header([0, 1], 0, bytes([0xc3, 0x28, 0xed, 0xa0, 0x80]))] },
  { name: "empty type, empty message", input: [header([0, 1], 0, "")] },
  {
    name: "header cuts off a message",
    input: [
      header([0, 1], 2, "x"),
      data([0, 1], 1, invoke),
      header([0, 2], 1, "y"),
      data([0, 2], 1, invoke),
    ],
  },
  {
    name: "empty data packets",
    input: [header([0, 1], 4, "x"), ...[1, 2, 3, 4].map((i) => data([0, 1], i, new Uint8Array(0)))],
  },
  {
    name: "response with a malformed content",
    input: [
      header([0, 0], 1, "__response__"),
      data([0, 0], 1, packed('{"type":"error","code":"x"}')),
    ],
  },
  {
    name: "response that is not packed",
    input: [header([0, 1], 1, "__response__"), data([0, 1], 1, bytes([1, 2, 3]))],
  },
  {
    name: "message over the limit",
    input: [
      header([0, 1], 20, "x"),
      ...Array.from({ length: 20 }, (_, i) => data([0, 1], i + 1, new Uint8Array(1024))),
    ],
  },
];

const PACKING: NastyEntry[] = [
  { name: "7 bytes", input: [new Uint8Array(7)] },
  { name: "length 0", input: [new Uint8Array(8)] },
  { name: "length 2^64-1", input: [bytes(id64(0xffff_ffff, 0xffff_ffff), text("{}"))] },
  { name: "length 2^53+1", input: [bytes(id64(0x20_0000, 1), text("{}"))] },
  { name: "length one past the end", input: [bytes(u32(0), u32(3), text("{}"))] },
  { name: "non-object headers", input: ["null", "[]", "1", '"s"', "true"].map((j) => packed(j)) },
  { name: "invalid UTF-8 in JSON", input: [bytes(u32(0), u32(5), [0x7b, 0x22, 0xff, 0x22, 0x7d])] },
  { name: "BOM before JSON", input: [bytes(u32(0), u32(5), [0xef, 0xbb, 0xbf], text("{}"))] },
  { name: "deep JSON header", input: [packed(`{"a":${deep(20_000)}}`)] },
  { name: "__meshagent__ trace key", input: [packed('{"__meshagent__":{"t":1},"type":"empty"}')] },
  {
    name: "odd codes",
    input: [
      packed('{"type":"error","code":"  12 "}'),
      packed('{"type":"error","code":1e400}'),
      packed('{"type":"control","method":"close","status_code":"99999999999999999999999"}'),
      packed('{"type":"control","method":"close","status_code":-0}'),
      packed('{"type":"control","method":"open","status_code":1.5}'),
    ],
  },
  {
    name: "missing or wrong fields",
    input: [
      packed('{"type":"json"}'),
      packed('{"type":"binary","headers":[1]}'),
      packed('{"type":"file"}'),
      packed('{"type":"link","name":"x"}'),
      packed('{"type":{"x":1}}'),
      packed('{"type":"text","text":"\\ud800"}'),
      packed('{"__proto__":{"type":"text","text":"x"}}'),
      packed('{"type":"constructor"}'),
      packed('{"type":"toString"}'),
    ],
  },
  {
    name: "contents inside requests",
    input: [
      packed('{"toolkit":"a","tool":"b","arguments":{"type":"control","method":"x"}}'),
      packed('{"tool_call_id":"1","chunk":{"type":"binary","headers":null}}', bytes([1, 2])),
      packed('{"chunk":[1,2,3]}'),
    ],
  },
];

const call = (
  toolkit: string,
  tool: string,
  json: FuzzValue,
  extra: Record<string, FuzzValue> = {},
) => ({
  type: "room.invoke_tool",
  header: { toolkit, tool, arguments: { type: "json", json }, ...extra },
});
const open = (toolkit: string, tool: string, id: string) => ({
  type: "room.invoke_tool",
  header: {
    toolkit,
    tool,
    tool_call_id: id,
    arguments: ControlContent.open().toJson() as FuzzValue,
  },
});
const chunk = (id: string, chunk: FuzzValue, payload?: Uint8Array) => ({
  type: "room.tool_call_request_chunk",
  header: { tool_call_id: id, chunk },
  ...(payload ? { payload } : {}),
});
const close = (id: string) => ({
  ...chunk(id, { type: "control", method: "close", status_code: 1000 }),
  wait: true,
});

/** A step whose header is JSON text with `value` (JSON text) nested `depth` levels deep inside. */
const deepCall = (toolkit: string, tool: string, json: (inner: string) => string) => ({
  type: "room.invoke_tool",
  headerJson: `{"toolkit":"${toolkit}","tool":"${tool}","arguments":{"type":"json","json":${
    json(deep(20_000))
  }}}`,
});

const CONNECTION: NastyEntry[] = [
  {
    name: "malformed invokes",
    input: {
      steps: [
        { type: "room.invoke_tool", raw: bytes([0, 0, 0]) },
        { type: "room.invoke_tool", header: { toolkit: 1, tool: [] } },
        { type: "room.invoke_tool", header: { toolkit: "messaging", tool: "send", arguments: 5 } },
        {
          type: "room.invoke_tool",
          header: { toolkit: "messaging", tool: "send", arguments: { type: "json" } },
        },
        call("messaging", "constructor", {}),
        call("messaging", "__proto__", {}),
        call("nope", "x", {}),
        call("messaging", "send", {}, { participant_id: "$other" }),
        { type: "room.unknown", header: {} },
        { type: "set_attributes", header: { a: { b: [1] }, __proto__: { x: 1 } } },
        { type: "set_attributes", raw: bytes([9]) },
      ],
    },
  },
  {
    name: "messaging arguments",
    input: {
      steps: [
        call("messaging", "enable", {}),
        call("messaging", "send", {
          to_participant_id: "$other",
          type: "t",
          message_json: deep(20_000),
        }),
        call("messaging", "send", { to_participant_id: "$self", type: 1, message_json: "{}" }),
        call("messaging", "send", {
          to_participant_id: "$other",
          type: "t",
          message_json: '{"a":1} x',
        }),
        call("messaging", "send", {
          to_participant_id: "$other",
          type: "t",
          message_json: "{}",
          attachment_base64: "@@@",
        }),
        call("messaging", "broadcast", { type: "t", message_json: "[]" }),
        call("messaging", "broadcast", { type: "\ud800", message_json: '{"\ud800":"\udc00"}' }),
      ],
    },
  },
  {
    name: "queues arguments",
    input: {
      steps: [
        call("queues", "send", { name: "q" }),
        call("queues", "send", { name: "", message: 1 }),
        call("queues", "send", { name: "q", message: { big: "x".repeat(1000) }, create: "yes" }),
        call("queues", "receive", { name: "q", wait: false }),
        call("queues", "receive", { name: "\u0000", wait: 0 }),
        call("queues", "drain", { name: ["q"] }),
        call("queues", "close", { name: "q" }),
        call("queues", "send", { name: "q", message: null }),
      ],
    },
  },
  {
    name: "developer arguments",
    input: {
      steps: [
        call("developer", "log", { type: "", data: {} }),
        call("developer", "log", { type: "x", data: [1] }),
        call("developer", "info", { message: "m", extra: "e" }),
        call("developer", "warning", { message: 5 }),
        open("developer", "logs", "l1"),
        call("developer", "error", { message: "m", extra: { __proto__: { polluted: true } } }),
        close("l1"),
      ],
    },
  },
  {
    name: "storage arguments",
    input: {
      steps: [
        call("storage", "list", { path: 7 }),
        call("storage", "stat", { path: "../../etc/passwd" }),
        call("storage", "exists", { path: "a/\u0000/b" }),
        call("storage", "delete", { path: "" }),
        call("storage", "move", { source_path: "a", destination_path: "/" }),
        call("storage", "download_url", { path: "x".repeat(5000) }),
        call("storage", "upload", {}),
        open("storage", "upload", "u1"),
        chunk("u1", { type: "binary", headers: { kind: "start", path: "a.txt", size: 3 } }),
        chunk("u1", { type: "binary", headers: { kind: "data" } }, bytes([1, 2, 3, 4])),
        close("u1"),
        open("storage", "upload", "u2"),
        chunk("u2", {
          type: "binary",
          headers: { kind: "start", path: "b.txt", size: -1, name: 5 },
        }),
        close("u2"),
        open("storage", "download", "d1"),
        chunk("d1", { type: "binary", headers: { kind: "start", path: "a.txt", chunk_size: 0 } }),
        close("d1"),
      ],
    },
  },
  {
    name: "sync arguments",
    input: {
      steps: [
        call("sync", "create", { path: "d.page", json: deep(10_000), schema: [1] }),
        call("sync", "create", { path: "e.page", schema: { element_type: 5 } }),
        call("sync", "describe", { path: "missing.page" }),
        open("sync", "open", "s1"),
        chunk("s1", { type: "binary", headers: { kind: "start", path: "d.page", vector: "!!!!" } }),
        close("s1"),
        open("sync", "open", "s2"),
        chunk("s2", { type: "binary", headers: { kind: "start", path: "f.page", vector: "AAAA" } }),
        chunk("s2", { type: "binary", headers: { kind: "sync" } }, text("AAECAwQ=")),
        close("s2"),
      ],
    },
  },
  {
    name: "hosted toolkits",
    input: {
      steps: [
        { type: "room.register_toolkit", header: { name: "t", tools: [{ name: 1 }] } },
        {
          type: "room.register_toolkit",
          header: { name: "t", tools: [{ name: "x", input_schema: [] }] },
        },
        { type: "room.list_toolkits", header: { participant_id: 5 } },
        call("t", "x", {}, { participant_id: "$self" }),
        { type: "room.tool_call_response", header: { tool_call_id: 5, response: null } },
        { type: "room.tool_call_response_chunk", header: { chunk: "x" } },
        { type: "room.unregister_toolkit", header: { name: ["t"] } },
      ],
    },
  },
  {
    name: "deeply nested arguments",
    input: {
      steps: [
        deepCall("developer", "log", (d) => `{"type":"t","data":{"a":${d}}}`),
        deepCall("developer", "info", (d) => `{"message":"m","extra":{"a":${d}}}`),
        deepCall("queues", "send", (d) => `{"name":"q","message":${d}}`),
        deepCall("queues", "receive", (d) => `{"name":"q","wait":false,"x":${d}}`),
        deepCall("sync", "create", (d) => `{"path":"a.page","json":{"a":${d}}}`),
        deepCall("sync", "create", (d) => `{"path":"b.page","schema":{"$defs":${d}}}`),
        deepCall("storage", "list", (d) => `{"path":${d}}`),
        deepCall("messaging", "broadcast", (d) => `{"type":"t","message_json":"{}","x":${d}}`),
        open("sync", "open", "s9"),
        {
          type: "room.tool_call_request_chunk",
          headerJson: `{"tool_call_id":"s9","chunk":{"type":"binary","headers":{"kind":"start",` +
            `"path":"c.page","schema":${JSON.stringify(SCHEMA_JSON)},` +
            `"initial_json":{"page":{"title":"t","children":${deep(20_000)}}}}}}`,
        },
        close("s9"),
        {
          type: "set_attributes",
          headerJson: `{"a":${deep(20_000)}}`,
        },
        call("messaging", "enable", {}),
        { type: "set_attributes", headerJson: `{"b":${deep(20_000)}}` },
        {
          type: "room.register_toolkit",
          headerJson:
            `{"name":"t","tools":[{"name":"x","input_schema":{"type":"object","properties":${
              '{"a":{"type":"object","properties":'.repeat(5000) + "{}" + "}}".repeat(5000)
            }}}]}`,
        },
      ],
    },
  },
  {
    name: "message ids at the edges",
    input: {
      steps: [
        { ...call("messaging", "enable", {}), id: 0 },
        { ...call("queues", "list", {}), id: Number.MAX_SAFE_INTEGER },
        { ...call("queues", "list", {}), id: "9007199254740992" },
        { ...call("queues", "list", {}), id: "18446744073709551615" },
        { type: "room.list_toolkits", header: {}, id: "9223372036854775808" },
        { ...chunk("x", { type: "control", method: "close" }), id: "18446744073709551614" },
        { type: "set_attributes", header: { a: 1 }, id: "18446744073709551615" },
        { ...call("queues", "list", {}), id: 7 },
        { ...call("queues", "list", {}), id: 7 },
      ],
    },
  },
  {
    name: "odd grants",
    input: {
      scope: { storage: { paths: [{ path: "docs/", read_only: true }] }, messaging: {} },
      steps: [call("storage", "list", { path: "" }), call("queues", "list", {})],
    },
  },
];

const SQLITE: NastyEntry[] = [
  {
    name: "requests that are not objects",
    input: {
      ops: ["list_databases", "create_database", "search", "update", "execute_sql"].map((op) => ({
        op,
        request: [1],
      })),
    },
  },
  {
    name: "bad names and namespaces",
    input: {
      ops: [
        { op: "create_database", request: { name: "../x", namespace: ["..", "a"] } },
        { op: "create_database", request: { name: "\u0000", namespace: [""] } },
        { op: "create_database", request: { name: "x".repeat(300), mode: "nope" } },
        { op: "create_database", request: { name: "main" } },
        { op: "list_databases", request: { namespace: "a" } },
        { op: "rename_table", request: { database: "main", name: "a", new_name: "sqlite_master" } },
        { op: "drop_table", request: { database: "main", name: '"; DROP TABLE x; --' } },
      ],
    },
  },
  {
    name: "bad filters and SQL",
    input: {
      ops: [
        { op: "create_database", request: { name: "main" } },
        {
          op: "execute_sql_statement",
          request: { database: "main", query: "CREATE TABLE t (id INTEGER, s TEXT)" },
        },
        {
          op: "update",
          request: {
            database: "main",
            table: "t",
            where: { id: { expression: "1) OR (1" } },
            values: [{ column: "s", value_json: "{" }],
          },
        },
        {
          op: "delete",
          request: { database: "main", table: "t", where: "id = ?", params: [{ x: 1 }] },
        },
        {
          op: "count",
          request: { database: "main", table: "t", where: "(SELECT count(*) FROM sqlite_master)" },
        },
        {
          op: "search",
          request: {
            database: "main",
            table: "t",
            limit: -1,
            offset: 2 ** 53,
            order_by: [{ column: 5 }],
          },
        },
        { op: "execute_sql", request: { database: "main", query: "ATTACH DATABASE 'x' AS y" } },
        {
          op: "execute_sql",
          request: { database: "main", query: "SELECT 1; SELECT 2", params: [1] },
        },
        { op: "open_sql_query", request: { database: "main", query: "SELECT * FROM t" } },
        { op: "read_sql_query", request: { query_id: "$q0" }, pulls: 3 },
        { op: "cancel_sql_query", request: { query_id: "$q0" } },
        { op: "read_sql_query", request: { query_id: "$q0" } },
        { op: "close_sql_query", request: { query_id: 7 } },
        {
          op: "add_columns",
          request: { database: "main", table: "t" },
          payload: bytes([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]),
        },
        {
          op: "create_table",
          request: { database: "main", name: "u" },
          payload: text("not arrow"),
        },
        {
          op: "insert",
          request: { database: "main", table: "t" },
          data: [bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])],
        },
      ],
    },
  },
];

/** The hand-made entries by target. */
export const NASTY: Record<"frames" | "packing" | "connection" | "sqlite", NastyEntry[]> = {
  frames: FRAMES,
  packing: PACKING,
  connection: CONNECTION,
  sqlite: SQLITE,
};
