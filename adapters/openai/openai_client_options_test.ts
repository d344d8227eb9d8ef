// Where the OpenAI adapters connect: options, then the environment, as the official proxy.
import assert from "node:assert/strict";
import { LLMError } from "@meshagent/agents";
import { resolveOpenAIClientConfig } from "./mod.ts";
import { ADAPTERS_VERSION } from "./_version.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("client config: base URL is option, then OPENAI_BASE_URL (blank = unset), then the MeshAgent proxy", () => {
  const all = {
    OPENAI_BASE_URL: "https://llm.example.com/v1/",
    MESHAGENT_API_URL: "https://mesh.example.com/",
    MESHAGENT_TOKEN: "t",
  };
  assert.equal(
    resolveOpenAIClientConfig({ baseURL: "http://o/v1", env: envOf(all) }).baseURL,
    "http://o/v1",
  );
  assert.equal(
    resolveOpenAIClientConfig({ env: envOf(all) }).baseURL,
    "https://llm.example.com/v1",
  );
  assert.equal(
    resolveOpenAIClientConfig({ env: envOf({ ...all, OPENAI_BASE_URL: "  " }) }).baseURL,
    "https://mesh.example.com/openai/v1",
  );
  assert.equal(
    resolveOpenAIClientConfig({ env: envOf({ MESHAGENT_TOKEN: "t" }) }).baseURL,
    "https://api.meshagent.com/openai/v1",
  );
});

Deno.test("client config: key is option, then OPENAI_API_KEY (blank falls through), then MESHAGENT_TOKEN", () => {
  const all = { OPENAI_API_KEY: "sk-env", MESHAGENT_TOKEN: "jwt" };
  const config = (options: Parameters<typeof resolveOpenAIClientConfig>[0]) =>
    resolveOpenAIClientConfig(options);
  assert.deepEqual(
    [
      config({ apiKey: "sk-opt", env: envOf(all) }).apiKey,
      config({ apiKey: "sk-opt", env: envOf(all) }).apiKeySource,
    ],
    ["sk-opt", "option"],
  );
  assert.equal(config({ env: envOf(all) }).apiKeySource, "OPENAI_API_KEY");
  assert.equal(config({ env: envOf({ ...all, OPENAI_API_KEY: "" }) }).apiKey, "jwt");
  assert.equal(
    config({ apiKey: " ", env: envOf({ MESHAGENT_TOKEN: "jwt" }) }).apiKeySource,
    "MESHAGENT_TOKEN",
  );
});

Deno.test("client config: no key is an error naming the variables, except for a loopback server", () => {
  assert.throws(
    () => resolveOpenAIClientConfig({ env: envOf({}) }),
    (e) =>
      e instanceof LLMError && e.code === "no_api_key" && /OPENAI_API_KEY/.test(e.message) &&
      /MESHAGENT_TOKEN/.test(e.message),
  );
  for (
    const url of ["http://localhost:11434/v1", "http://127.0.0.1:8000/v1", "http://[::1]:8080/v1"]
  ) {
    const config = resolveOpenAIClientConfig({ env: envOf({ OPENAI_BASE_URL: url }) });
    assert.equal(config.apiKeySource, "none", url);
  }
  assert.throws(
    () => resolveOpenAIClientConfig({ baseURL: "not a url", env: envOf({}) }),
    /not a URL/,
  );
});

Deno.test("client config: user agent, headers and timeouts; the version matches adapters/deno.json", async () => {
  const config = resolveOpenAIClientConfig({
    apiKey: "k",
    env: envOf({}),
    timeoutMs: 5,
    idleTimeoutMs: 2,
    headers: { "X-A": "1" },
  });
  assert.equal(config.userAgent, `meshagent-deno/${ADAPTERS_VERSION}`);
  assert.deepEqual([config.timeoutMs, config.idleTimeoutMs, config.headers], [5, 2, {
    "X-A": "1",
  }]);
  const defaults = resolveOpenAIClientConfig({ apiKey: "k", env: envOf({}) });
  assert.deepEqual([defaults.timeoutMs, defaults.idleTimeoutMs], [600_000, 120_000]);
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(ADAPTERS_VERSION, manifest.version);
});
