import assert from "node:assert/strict";
import {
  JsonContent,
  type JsonObject,
  type MeshDocument,
  MeshSchema,
  type RoomClient,
  RoomError,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { DocumentAuthoringToolkit } from "./document_authoring_toolkit.ts";
import { DocumentTypeAuthoringToolkit } from "./document_type_authoring_toolkit.ts";
import { startHostedToolkit } from "./hosted_toolkit.ts";
import { ToolContext } from "./tool_context.ts";

const ROOM = "doc-tools";

const SCHEMA = MeshSchema.fromJson({
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: {
        page: {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            children: {
              type: "array",
              items: {
                anyOf: [{ $ref: "#/$defs/section" }, { $ref: "#/$defs/para" }, {
                  $ref: "#/$defs/text",
                }],
              },
            },
          },
        },
      },
    },
    section: {
      type: "object",
      description: "a titled group of paragraphs",
      properties: {
        section: {
          type: "object",
          properties: {
            heading: { type: "string" },
            paras: { type: "array", items: { anyOf: [{ $ref: "#/$defs/para" }] } },
          },
        },
      },
    },
    para: {
      type: "object",
      properties: {
        para: {
          type: "object",
          properties: {
            style: { type: ["string", "null"], enum: ["body", "quote", null] },
            n: { type: ["number", "null"] },
          },
        },
      },
    },
    text: { type: "object", properties: { text: { type: "object", properties: {} } } },
  },
});

function connect(server: TestServer, name: string): Promise<RoomClient> {
  return server.connect(ROOM, name, { reconnectTimeout: 0 });
}

function contextFor(room: RoomClient): ToolContext {
  return new ToolContext({ caller: { id: "p-test", attributes: {} }, room });
}

function json(content: unknown): JsonObject {
  assert.ok(content instanceof JsonContent, `expected json, got ${JSON.stringify(content)}`);
  return content.json as JsonObject;
}

async function rejectsCode(p: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const text = (d: MeshDocument) => JSON.stringify(d.toJson());

Deno.test("document authoring: tool names and strict schemas", () => {
  const kit = new DocumentAuthoringToolkit();
  assert.equal(kit.name, "meshagent.document_authoring");
  assert.deepEqual(kit.tools.map((t) => t.name), [
    "meshagent.document.open",
    "meshagent.document.close",
    "get_document",
    "insert_element",
    "set_attribute",
    "remove_element_by_id",
  ]);
  const typed = new DocumentTypeAuthoringToolkit(SCHEMA, "page");
  assert.equal(typed.name, "meshagent.document_authoring.page");
  assert.deepEqual(typed.tools.map((t) => t.name), [
    "page_insert_root_section",
    "page_insert_root_para",
    "page_insert_para",
    "page_insert_root_text",
  ]);
  for (const tool of [...kit.tools, ...typed.tools]) {
    assert.equal(tool.strict, true, tool.name);
    const check = (schema: JsonObject, where: string) => {
      if (schema.type !== "object") return;
      assert.equal(schema.additionalProperties, false, where);
      const props = schema.properties as JsonObject;
      assert.deepEqual([...(schema.required as string[])].sort(), Object.keys(props).sort(), where);
      for (const [k, v] of Object.entries(props)) check(v as JsonObject, `${where}.${k}`);
    };
    check(tool.inputSpec!.schema!, tool.name);
  }
  const para = typed.getTool("page_insert_para").inputSpec!.schema! as {
    properties: { parent_id: JsonObject; attributes: { properties: JsonObject } };
  };
  assert.deepEqual(para.properties.attributes.properties.style, {
    type: ["string", "null"],
    enum: ["body", "quote", null],
  });
  assert.match(String(para.properties.parent_id.description), /section/);
});

Deno.test("document authoring: open, insert, set and remove converge for another client; invalid edits change nothing", async () => {
  const server = await startTestServer();
  const agent = await connect(server, "agent");
  const viewer = await connect(server, "viewer");
  try {
    const kit = new DocumentAuthoringToolkit({ schemas: { page: SCHEMA } });
    const ctx = contextFor(agent);
    const path = "notes/plan.page";

    // Editing a document that does not exist does not create it.
    await rejectsCode(kit.execute(ctx, "get_document", { path }), 3001, /meshagent.document.open/);

    const opened = json(await kit.execute(ctx, "meshagent.document.open", { path: "/" + path }));
    assert.equal(opened.path, path);
    assert.deepEqual(opened.document, { page: { children: [] } });
    assert.equal((opened.schema as JsonObject).$root_tag_ref, "#/$defs/page");

    const seen = await viewer.sync.open(path, { create: false });
    try {
      const section = json(
        await kit.execute(ctx, "insert_element", {
          path,
          parent_id: null,
          tag_name: "section",
          attributes: [{ name: "heading", value: "Goals" }],
          index: null,
        }),
      );
      const sectionId = section.id as string;
      assert.equal(typeof sectionId, "string");
      assert.deepEqual(section.element, {
        section: { $id: sectionId, heading: "Goals", paras: [] },
      });
      const para = json(
        await kit.execute(ctx, "insert_element", {
          path,
          parent_id: sectionId,
          tag_name: "para",
          attributes: [{ name: "style", value: "body" }, { name: "n", value: 1 }],
          index: 0,
        }),
      );
      const paraId = para.id as string;
      await kit.execute(ctx, "set_attribute", { path, id: null, name: "title", value: "Plan" });
      await kit.execute(ctx, "set_attribute", { path, id: paraId, name: "n", value: 2 });

      const expected = {
        page: {
          title: "Plan",
          children: [{ section: { heading: "Goals", paras: [{ para: { style: "body", n: 2 } }] } }],
        },
      };
      await until(() => text(seen) === JSON.stringify(expected), "the viewer to converge");
      const got = json(await kit.execute(ctx, "get_document", { path }));
      assert.deepEqual(got.document, {
        page: {
          title: "Plan",
          children: [{
            section: {
              $id: sectionId,
              heading: "Goals",
              paras: [{ para: { $id: paraId, style: "body", n: 2 } }],
            },
          }],
        },
      });

      // Edits the schema does not allow fail clearly and change nothing, here or there.
      const before = text(seen);
      await rejectsCode(
        kit.execute(ctx, "insert_element", {
          path,
          parent_id: sectionId,
          tag_name: "section",
          attributes: [],
          index: null,
        }),
        1002,
        /section/,
      );
      await rejectsCode(
        kit.execute(ctx, "insert_element", {
          path,
          parent_id: null,
          tag_name: "para",
          attributes: [{ name: "color", value: "red" }],
          index: null,
        }),
        1002,
        /attribute "color" is not declared by element type "para" \(declared: style, n\)/,
      );
      await rejectsCode(
        kit.execute(ctx, "set_attribute", { path, id: paraId, name: "style", value: "loud" }),
        1002,
        /"loud" is not one of/,
      );
      await rejectsCode(
        kit.execute(ctx, "set_attribute", { path, id: paraId, name: "n", value: "two" }),
        1002,
        /expected a number/,
      );
      await rejectsCode(
        kit.execute(ctx, "set_attribute", { path, id: "nope", name: "n", value: 1 }),
        1003,
        /no element with id "nope"/,
      );
      await rejectsCode(
        kit.execute(ctx, "insert_element", {
          path,
          parent_id: null,
          tag_name: "para",
          attributes: [],
          index: 7,
        }),
        1002,
        /out of range/,
      );
      const agentDoc = json(await kit.execute(ctx, "get_document", { path }));
      assert.deepEqual(agentDoc.document, got.document);
      // A later valid edit goes through; once the viewer has it, it has seen everything before.
      await kit.execute(ctx, "set_attribute", { path, id: null, name: "title", value: "Plan B" });
      await until(() => seen.root.getAttribute("title") === "Plan B", "the title to change");
      assert.equal(text(seen), before.replace('"Plan"', '"Plan B"'));

      await kit.execute(ctx, "remove_element_by_id", { path, id: paraId });
      await until(
        () =>
          text(seen) ===
            '{"page":{"title":"Plan B","children":[{"section":{"heading":"Goals","paras":[]}}]}}',
        "the removal to reach the viewer",
      );
      await rejectsCode(kit.execute(ctx, "remove_element_by_id", { path, id: paraId }), 1003);

      // The viewer's edits reach the agent's view too.
      seen.root.createChildElement("para", { style: "quote" });
      await viewer.sync.flush(path);
      let children: JsonObject[] = [];
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const doc = json(await kit.execute(ctx, "get_document", { path })).document as {
          page: { children: JsonObject[] };
        };
        children = doc.page.children;
        if (children.length === 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(children.length, 2);

      assert.deepEqual(json(await kit.execute(ctx, "meshagent.document.close", { path })), {
        path,
        closed: true,
      });
      assert.equal(agent.sync.openPaths.includes(path), false);
      await rejectsCode(kit.execute(ctx, "meshagent.document.close", { path }), 4001, /not open/);
    } finally {
      await viewer.sync.close(path);
    }
  } finally {
    await viewer.dispose();
    await agent.dispose();
    await server.close();
  }
});

Deno.test("document type authoring: generated insert tools follow the schema", async () => {
  const server = await startTestServer();
  const agent = await connect(server, "agent");
  try {
    const path = "typed.page";
    await agent.sync.create(path, { schema: SCHEMA });
    const authoring = new DocumentAuthoringToolkit();
    const typed = new DocumentTypeAuthoringToolkit(SCHEMA, "page");
    const ctx = contextFor(agent);

    // Concurrent calls open the document once: one close releases it.
    await Promise.all([
      authoring.execute(ctx, "get_document", { path }),
      typed.execute(ctx, "page_insert_root_section", {
        path,
        index: null,
        attributes: { heading: "First" },
      }),
    ]);
    await authoring.execute(ctx, "meshagent.document.close", { path });
    assert.deepEqual(agent.sync.openPaths, []);
    const first = (await agent.sync.describe(path)) as { page: { children: JsonObject[] } };
    assert.deepEqual(first.page.children, [{ section: { heading: "First", paras: [] } }]);
    await authoring.execute(ctx, "meshagent.document.open", { path });
    const firstId = (json(await authoring.execute(ctx, "get_document", { path })).document as {
      page: { children: { section: { $id: string } }[] };
    }).page.children[0].section.$id;
    await authoring.execute(ctx, "remove_element_by_id", { path, id: firstId });

    const section = json(
      await typed.execute(ctx, "page_insert_root_section", {
        path,
        index: null,
        attributes: { heading: "Intro" },
      }),
    );
    const sectionId = section.id as string;
    const para = json(
      await typed.execute(ctx, "page_insert_para", {
        path,
        parent_id: sectionId,
        index: null,
        attributes: { style: "quote", n: null },
      }),
    );
    assert.deepEqual(para.element, { para: { $id: para.id, style: "quote" } });
    const textEl = json(
      await typed.execute(ctx, "page_insert_root_text", {
        path,
        index: 0,
        attributes: {},
        text: "hello",
      }),
    );
    await rejectsCode(
      typed.execute(ctx, "page_insert_para", {
        path,
        parent_id: sectionId,
        index: null,
        attributes: { style: "loud", n: null },
      }),
      1002,
      /input_schema/,
    );
    await rejectsCode(
      typed.execute(ctx, "page_insert_para", {
        path,
        parent_id: para.id as string,
        index: null,
        attributes: { style: null, n: 1 },
      }),
      1002,
      /para/,
    );
    const doc = json(await authoring.execute(ctx, "get_document", { path })).document;
    assert.deepEqual(doc, {
      page: {
        children: [
          { text: { $id: textEl.id, children: [{ text: { delta: [{ insert: "hello" }] } }] } },
          {
            section: {
              $id: sectionId,
              heading: "Intro",
              paras: [{ para: { $id: para.id, style: "quote" } }],
            },
          },
        ],
      },
    });
    await authoring.execute(ctx, "meshagent.document.close", { path });
    const stored = await agent.sync.describe(path);
    assert.equal(
      JSON.stringify(stored),
      '{"page":{"children":[{"text":{"children":[{"text":{"delta":[{"insert":"hello"}]}}]}},{"section":{"heading":"Intro","paras":[{"para":{"style":"quote"}}]}}]}}',
    );

    // A document of another type is refused.
    const other = MeshSchema.fromJson({
      $root_tag_ref: "#/$defs/list",
      $defs: { list: { type: "object", properties: { list: { type: "object", properties: {} } } } },
    });
    await agent.sync.create("x.list", { schema: other });
    await rejectsCode(
      typed.execute(ctx, "page_insert_root_para", {
        path: "x.list",
        index: null,
        attributes: { style: null, n: null },
      }),
      1002,
      /is a list document, not a page document/,
    );
    await authoring.execute(ctx, "meshagent.document.close", { path: "x.list" });
  } finally {
    await agent.dispose();
    await server.close();
  }
});

Deno.test("document authoring: hosted in a room, another participant edits a document through the server", async () => {
  const server = await startTestServer();
  const host = await connect(server, "agent");
  const user = await connect(server, "user");
  const hosted = await startHostedToolkit(
    host,
    new DocumentAuthoringToolkit({ schemas: { page: SCHEMA } }),
    { public: true },
  );
  const path = "shared.page";
  try {
    const call = (tool: string, args: JsonObject) =>
      user.agents.invokeTool({ toolkit: "meshagent.document_authoring", tool, arguments: args });
    await call("meshagent.document.open", { path });
    const mine = await user.sync.open(path, { create: false });
    const inserted = json(
      await call("insert_element", {
        path,
        parent_id: null,
        tag_name: "para",
        attributes: [{ name: "style", value: "body" }],
        index: null,
      }),
    );
    await until(() => mine.root.children.length === 1, "the insert to reach the user");
    assert.equal(mine.root.children[0].id, inserted.id);
    assert.equal(mine.root.children[0].getAttribute("style"), "body");

    await rejectsCode(
      call("insert_element", {
        path,
        parent_id: null,
        tag_name: "chapter",
        attributes: [],
        index: null,
      }),
      1002,
      /chapter/,
    );
    await call("remove_element_by_id", { path, id: inserted.id as string });
    await until(() => mine.root.children.length === 0, "the removal to reach the user");
    await call("meshagent.document.close", { path });
    await user.sync.close(path);
  } finally {
    await hosted.stop();
    await user.dispose();
    await host.dispose();
    await server.close();
  }
});
