import assert from "node:assert/strict";
import { type Deadline, DeadlineQueue } from "./_deadline_queue.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("deadline queue: entries expire in order, cancelled ones never", async () => {
  const expired: number[] = [];
  const all = Promise.withResolvers<void>();
  const queue = new DeadlineQueue<number>(30, (n) => {
    expired.push(n);
    if (n === 4) all.resolve();
  });
  const started = performance.now();
  const handles = [0, 1, 2, 3, 4].map((n) => queue.add(n));
  queue.cancel(handles[0]); // the oldest: the timer must move on to the next one
  queue.cancel(handles[2]);
  queue.cancel(handles[2]); // twice is harmless
  assert.equal(queue.size, 3);
  await all.promise;
  assert.deepEqual(expired, [1, 3, 4]);
  assert.ok(performance.now() - started >= 29, "not before their time");
  assert.equal(queue.size, 0);
  queue.cancel(handles[1]); // after expiry: nothing happens
  assert.equal(queue.size, 0);
});

Deno.test("deadline queue: many cancellations are compacted; survivors still expire", async () => {
  const expired: number[] = [];
  const done = Promise.withResolvers<void>();
  const queue = new DeadlineQueue<number>(40, (n) => {
    expired.push(n);
    if (expired.length === 3) done.resolve();
  });
  const keep = new Set([10, 5000, 9999]);
  for (let n = 0; n < 10_000; n++) {
    const handle = queue.add(n);
    if (!keep.has(n)) queue.cancel(handle);
  }
  assert.equal(queue.size, 3);
  await done.promise;
  assert.deepEqual(expired, [10, 5000, 9999]);
});

Deno.test("deadline queue: an expiry may add and cancel; clear stops everything", async () => {
  const expired: string[] = [];
  const second = Promise.withResolvers<void>();
  const handles: { other?: Deadline } = {};
  const queue = new DeadlineQueue<string>(15, (item) => {
    expired.push(item);
    if (item === "first") {
      queue.cancel(handles.other); // cancels an entry due in the same turn
      queue.add("second");
    }
    if (item === "second") second.resolve();
  });
  queue.add("first");
  handles.other = queue.add("other");
  await second.promise;
  assert.deepEqual(expired, ["first", "second"]);

  queue.add("never");
  queue.clear();
  assert.equal(queue.size, 0);
  await sleep(40); // a leaked timer would also fail the test's sanitizer
  assert.deepEqual(expired, ["first", "second"]);
});
