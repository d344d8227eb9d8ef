// Private: errors in CLI words. The SDK and the server describe failures in protocol words (a
// tool name, a method, an HTTP status); a CLI user needs the command or flag that fixes it. Each
// row matches an error message and says what to do instead; the first match wins. The original
// message is kept on a second line, so nothing the server said is lost.

/** One rule: a message pattern and what to tell the user (`$1`… are the pattern's groups). */
interface Hint {
  match: RegExp;
  say: string;
}

const HINTS: readonly Hint[] = [
  // --- connecting: the server's refusal reasons (server/_admission.ts) and the network
  {
    match: /status 403: forbidden: the token has no room grant for (\S+)/,
    say: "the token does not grant room $1. Mint one that does (meshagent token --room $1 " +
      "--name NAME), or leave out --token / MESHAGENT_TOKEN and the CLI signs one for the room",
  },
  {
    match: /status 403: forbidden: expired/,
    say: "the token has expired. Mint a new one (meshagent token --room ROOM --name NAME; " +
      "--expires SECONDS sets its lifetime, none by default), or leave out --token / " +
      "MESHAGENT_TOKEN and the CLI signs a fresh one",
  },
  {
    match: /status 403: forbidden: invalid_signature/,
    say: "the server refused the token: its signature does not match the key the server " +
      "trusts. Sign with the MESHAGENT_API_KEY that meshagent server printed (export it, or " +
      "pass --key ma-…), or mint the token again with meshagent token",
  },
  {
    match: /status 403: forbidden: unknown_key: (.*)/,
    say: "the server does not trust the key that signed the token ($1). Use the " +
      "MESHAGENT_API_KEY that meshagent server printed (or --key ma-…), or start the server " +
      "with your key: MESHAGENT_API_KEY=ma-… meshagent server",
  },
  {
    match: /status 403: forbidden: (malformed|unsupported_algorithm|invalid_claims)/,
    say: "--token / MESHAGENT_TOKEN is not a participant token the server can read. Mint one " +
      "with meshagent token --room ROOM --name NAME",
  },
  {
    match: /status 403: forbidden: the token belongs to another project/,
    say: "the token was signed for another project than the server's key. Sign with the " +
      "MESHAGENT_API_KEY that meshagent server printed (or --key ma-…)",
  },
  {
    match: /status 404: not found: invalid room name/,
    say: "the server refused the room name: use 1-63 lowercase letters, digits and hyphens " +
      "(--room my-room)",
  },
  {
    match: /status 404/,
    say: "nothing answers at that address: is --api-url / MESHAGENT_API_URL the URL meshagent " +
      "server printed?",
  },
  {
    match: /cannot connect to (\S+?):? .*(ECONNREFUSED|Connection refused|os error 111)/i,
    say: "no room server answers at $1. Start one (meshagent server, or deno task start in " +
      "the repository), or point --api-url / MESHAGENT_API_URL at yours",
  },
  {
    match: /^invalid api key: (.*)/,
    say: "--key / MESHAGENT_API_KEY is not an API key ($1). Copy the whole " +
      "MESHAGENT_API_KEY line meshagent server printed",
  },
  {
    match: /^rooms list failed with status 401: (.*)/,
    say: "the server did not accept the API key ($1). Use the MESHAGENT_API_KEY that meshagent " +
      "server printed (or --key ma-…)",
  },
  {
    match: /^rooms list failed with status 403: (.*)/,
    say: "$1. Use the API key of the server's project (the MESHAGENT_API_KEY meshagent server " +
      "printed)",
  },
  {
    match: /^permission denied|is not allowed: the (participant token|api\.\w+ grant)/,
    say: "the participant token does not allow this. With --token, mint one with a wider API " +
      "scope (meshagent token --api full …); without it, the CLI's own token allows the agent " +
      "defaults",
  },
  // --- tools
  {
    match: /^room\.invoke_tool got no response within (\d+) ms/,
    say: "the tool did not answer within the time limit ($1 ms). Pass a longer --timeout " +
      "SECONDS, or check that its toolkit is still hosted: meshagent room agents list-toolkits",
  },
  {
    match: /^toolkit (\S+) was not found for participant (\S+)/,
    say: "participant $2 hosts no toolkit $1. See the toolkits there: meshagent room agents " +
      "list-toolkits",
  },
  {
    match: /^toolkit (\S+) was not found/,
    say: "no toolkit $1 in the room. See the toolkits there: meshagent room agents " +
      "list-toolkits",
  },
  {
    match: /^tool (\S+) was not found in toolkit (\S+)/,
    say: "toolkit $2 has no tool $1. See its tools: meshagent room agents list-toolkits --json",
  },
  {
    match: /a stream \(use invokeStream\)/,
    say: "the tool streams its output: call it again with --stream",
  },
  // --- messaging, storage, sqlite, sync
  {
    match: /^the participant was not found/,
    say: "nobody by that id or name has messaging enabled in the room. See who is there: " +
      "meshagent room messaging list",
  },
  {
    match: /^database ("[^"]*")(.*) does not exist; create it with create_database/,
    say: "database $1$2 does not exist. Create it: meshagent room sqlite database create " +
      "--database $1",
  },
  {
    match: /^no schema for (\S+): upload one to (\S+), or pass a schema/,
    say: "no schema for $1. Pass --schema: a built-in one (document, thread, thread-list; " +
      "see meshagent room sync create --help), a room path or a local JSON file; or upload " +
      "one to $2 (meshagent room storage cp schema.json $2)",
  },
];

/**
 * Rewrites an error message in CLI words when a rule knows it, keeping the original.
 *
 * @param message The error's message.
 * @returns The message to print (unchanged when no rule matches).
 */
export function explainError(message: string): string {
  for (const hint of HINTS) {
    const m = hint.match.exec(message);
    if (!m) continue;
    const text = hint.say.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? "");
    return `${text}\n  (${message})`;
  }
  return message;
}
