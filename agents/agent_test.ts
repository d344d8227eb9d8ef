import assert from "node:assert/strict";
import { Agent } from "./agent.ts";
import { RequiredSchema, RequiredToolkit } from "./requirement.ts";

Deno.test("Agent: metadata JSON with requirements, and back", () => {
  const agent = new Agent({
    name: "helper",
    description: "answers questions",
    requires: [
      new RequiredToolkit({ name: "math-toolkit", tools: ["add"] }),
      new RequiredSchema({ name: "thread" }),
    ],
    labels: ["demo"],
    annotations: { "meshagent.agent.type": "Tools" },
  });
  const json = agent.toJson();
  assert.deepEqual(json, {
    name: "helper",
    title: "helper",
    description: "answers questions",
    requires: [
      { toolkit: "math-toolkit", tools: ["add"], participant_name: null, callable: null },
      { schema: "thread", callable: null, json: null },
    ],
    labels: ["demo"],
    annotations: { "meshagent.agent.type": "Tools" },
  });
  assert.deepEqual(Agent.fromJson(JSON.parse(JSON.stringify(json))).toJson(), json);
});

Deno.test("Agent: defaults", () => {
  const agent = new Agent();
  assert.deepEqual(agent.toJson(), {
    name: null,
    title: "",
    description: "",
    requires: [],
    labels: [],
    annotations: {},
  });
  assert.equal(new Agent({ name: "a", title: "The A" }).title, "The A");
  assert.throws(() => Agent.fromJson([]), TypeError);
});
