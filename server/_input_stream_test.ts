// The streamed input of a built-in tool holds a bounded number of unread chunks: a sender that
// does not wait for the answers gets its extra chunks refused instead of growing the server.
import assert from "node:assert/strict";
import { BinaryContent, type Content, ErrorContent } from "@meshagent/api";
import { type InputBudget, InputStream, MAX_UNREAD_CHUNKS } from "./_input_stream.ts";

function chunk(bytes: number): BinaryContent {
  return new BinaryContent(new Uint8Array(bytes), { kind: "data" });
}

Deno.test("input stream: chunks past the unread limit are refused with an error answer; reading frees room", async () => {
  const stream = new InputStream();
  const answers: (Content | undefined)[] = [];
  for (let i = 0; i < MAX_UNREAD_CHUNKS + 10; i++) stream.push(chunk(10), (r) => answers.push(r));
  const refused = answers.filter((a) => a instanceof ErrorContent);
  assert.equal(refused.length, 10);
  assert.match((refused[0] as ErrorContent).text, /wait for each chunk's answer/);
  // reading one makes room for one more
  await stream.next();
  const more: (Content | undefined)[] = [];
  stream.push(chunk(10), (r) => more.push(r));
  stream.push(chunk(10), (r) => more.push(r));
  assert.equal(more.filter((a) => a instanceof ErrorContent).length, 1);
  stream.dispose();
});

Deno.test("input stream: the connection's byte budget is shared by its streams and given back", async () => {
  const budget: InputBudget = { used: 0, max: 10_000 };
  const a = new InputStream(budget);
  const b = new InputStream(budget);
  const answers: (Content | undefined)[] = [];
  a.push(chunk(4000), (r) => answers.push(r));
  b.push(chunk(4000), (r) => answers.push(r));
  b.push(chunk(4000), (r) => answers.push(r)); // over the shared budget
  assert.equal(answers.filter((x) => x instanceof ErrorContent).length, 1);
  assert.ok(budget.used > 8000 && budget.used <= 10_000);
  await a.next();
  a.end();
  b.end();
  assert.equal(budget.used, 0);
});
