// Private: the admin commands (`project`, `api-key`, `secret`, `rooms`, `webhook`, `service`) as
// data: each row is a REST call through the `Meshagent` client and what to print (a table, one
// object, or a sentence). One reader wires them into commander with the shared flags.
import { type Command, Option } from "commander";
import type { JsonObject } from "@meshagent/api";
import { type AdminConnection, resolveAdmin } from "./admin_connection.ts";
import { readProfiles, writeProfiles } from "./auth_profiles.ts";
import { type Column, printDone, printList, printObject } from "./_format.ts";
import { jsonOption, roomOptions, serverUrl } from "./_room_options.ts";
import type { Output } from "./output.ts";

/** What a command prints. */
type Printed =
  | { list: readonly JsonObject[]; columns: readonly Column<JsonObject>[]; empty: string }
  | { object: JsonObject }
  | { done: string; value: JsonObject };

/** The parsed flags of a command (commander's camelCase keys). */
type Flags = Record<string, unknown>;

interface AdminCommand {
  /** The group and the command, e.g. `["api-key", "create"]`. */
  path: [string, string];
  description: string;
  /** Positional arguments, e.g. `<name>`. */
  args?: string[];
  /** Extra flags: [flags, description, repeatable?]. */
  flags?: [string, string, "repeat"?][];
  run(admin: AdminConnection, args: string[], flags: Flags): Promise<Printed>;
}

const col = (header: string, key: string): Column<JsonObject> => ({
  header,
  value: (row) => row[key],
});

async function readValue(flags: Flags, what: string): Promise<string | Uint8Array> {
  if (typeof flags.value === "string") return flags.value;
  if (typeof flags.valueFile === "string") return await Deno.readFile(flags.valueFile);
  throw new Error(`${what}: pass --value TEXT or --value-file FILE`);
}

function jsonFlag(flags: Flags, name: string, flag: string): JsonObject | undefined {
  const text = flags[name];
  if (typeof text !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${flag} must be a JSON object, e.g. '{"team":"a"}'`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${flag} must be a JSON object, e.g. '{"team":"a"}'`);
  }
  return value as JsonObject;
}

function scope(flags: Flags): { room?: string } {
  return typeof flags.room === "string" ? { room: flags.room } : {};
}

async function readSpec(file: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new Error(`--file ${file}: ${e instanceof Error ? e.message : e}`);
  }
  try {
    return JSON.parse(text) as JsonObject;
  } catch {
    throw new Error(`--file ${file} is not JSON (a ServiceSpec: version, kind, metadata, …)`);
  }
}

const COMMANDS: readonly AdminCommand[] = [
  {
    path: ["project", "create"],
    description: "create a project (needs a server key)",
    args: ["<name>"],
    run: async (a, [name]) => {
      const project = await a.client.createProject(name);
      return { done: `created project ${name} (${project.id})`, value: { ...project } };
    },
  },
  {
    path: ["project", "list"],
    description: "list the projects the key may see",
    run: async (a) => ({
      list: (await a.client.listProjects()).map((p) => ({ ...p })),
      columns: [col("project", "name"), col("id", "id"), col("created", "created_at")],
      empty: "no projects",
    }),
  },
  {
    path: ["project", "get"],
    description: "show a project (default: the current one)",
    args: ["[id]"],
    run: async (a, [id]) => ({ object: { ...await a.client.getProject(id ?? a.projectId) } }),
  },
  {
    path: ["project", "activate"],
    description: "make a project the current profile's default",
    args: ["<id>"],
    run: async (a, [id]) => {
      await a.client.getProject(id); // it exists and the key may use it
      const saved = await readProfiles();
      const name = a.profile;
      if (name === undefined || !saved.profiles[name]) {
        throw new Error("no profile to remember it in: log in first with `meshagent auth login`");
      }
      saved.profiles[name] = { ...saved.profiles[name], projectId: id };
      await writeProfiles(saved);
      return {
        done: `project ${id} is now the default of profile ${name}`,
        value: { id, profile: name },
      };
    },
  },

  {
    path: ["api-key", "create"],
    description: "create an API key (its value is shown only now)",
    args: ["<name>"],
    flags: [
      ["--description <text>", "what the key is for"],
      ["--service-account <id>", "the owning service account (default: the project's default)"],
    ],
    run: async (a, [name], f) => {
      const key = await a.client.createApiKey(a.projectId, {
        name,
        description: typeof f.description === "string" ? f.description : "",
        serviceAccountId: typeof f.serviceAccount === "string" ? f.serviceAccount : undefined,
      });
      return { object: { ...key } };
    },
  },
  {
    path: ["api-key", "list"],
    description: "list the project's API keys (without their values)",
    flags: [["--service-account <id>", "only this service account's keys"]],
    run: async (a, _, f) => ({
      list: (await a.client.listApiKeys(a.projectId, {
        serviceAccountId: typeof f.serviceAccount === "string" ? f.serviceAccount : undefined,
      })).map((k) => ({ ...k })),
      columns: [
        col("name", "name"),
        col("id", "id"),
        col("created", "created_at"),
        col("last used", "last_used_at"),
      ],
      empty: "no API keys in this project (make one with `meshagent api-key create NAME`)",
    }),
  },
  {
    path: ["api-key", "delete"],
    description: "revoke an API key: its tokens stop working at once",
    args: ["<id>"],
    run: async (a, [id]) => {
      await a.client.deleteApiKey(a.projectId, id);
      return { done: `revoked API key ${id}`, value: { deleted: id } };
    },
  },

  {
    path: ["secret", "create"],
    description: "create a secret with a value",
    args: ["<name>"],
    flags: [
      ["--value <text>", "the value"],
      ["--value-file <file>", "read the value from a file"],
      ["--type <type>", "the secret type (default opaque)"],
    ],
    run: async (a, [name], f) => {
      const secret = await a.client.createSecret({
        projectId: a.projectId,
        name,
        type: typeof f.type === "string" ? f.type : undefined,
        value: await readValue(f, "secret create"),
      });
      return { done: `created secret ${name} (${secret.id})`, value: { ...secret } };
    },
  },
  {
    path: ["secret", "list"],
    description: "list your secrets (without values)",
    run: async (a) => ({
      list: (await a.client.listSecrets()).map((s) => ({ ...s })),
      columns: [
        col("name", "name"),
        col("id", "id"),
        col("type", "type"),
        col("updated", "updated_at"),
      ],
      empty: "no secrets (make one with `meshagent secret create NAME --value …`)",
    }),
  },
  {
    path: ["secret", "get"],
    description: "show a secret; --show-value prints its value too",
    args: ["<id>"],
    flags: [["--show-value", "include the current value"]],
    run: async (a, [id], f) => {
      const secret = await a.client.getSecret(id, { includeValue: f.showValue === true });
      const { value, ...rest } = secret;
      return {
        object: {
          ...rest,
          ...(value ? { value: new TextDecoder().decode(value) } : {}),
        },
      };
    },
  },
  {
    path: ["secret", "add-version"],
    description: "give a secret a new value",
    args: ["<id>"],
    flags: [["--value <text>", "the value"], ["--value-file <file>", "read the value from a file"]],
    run: async (a, [id], f) => {
      const version = await a.client.addSecretVersion(id, await readValue(f, "secret add-version"));
      return { done: `secret ${id} is at version ${version.version}`, value: { ...version } };
    },
  },
  {
    path: ["secret", "delete"],
    description: "delete a secret and its versions",
    args: ["<id>"],
    run: async (a, [id]) => {
      await a.client.deleteSecret(id);
      return { done: `deleted secret ${id}`, value: { deleted: id } };
    },
  },

  {
    path: ["rooms", "create"],
    description: "create a room",
    args: ["<name>"],
    flags: [
      ["--if-not-exists", "succeed when it exists already"],
      ["--metadata <json>", "a JSON object of metadata"],
    ],
    run: async (a, [name], f) => {
      const room = await a.client.createRoom(a.projectId, {
        name,
        ifNotExists: f.ifNotExists === true,
        metadata: jsonFlag(f, "metadata", "--metadata"),
      });
      return { done: `room ${room.name} is ready (${room.id})`, value: { ...room } };
    },
  },
  {
    path: ["rooms", "get"],
    description: "show a room",
    args: ["<name>"],
    run: async (a, [name]) => ({ object: { ...await a.client.getRoom(a.projectId, name) } }),
  },
  {
    path: ["rooms", "update"],
    description: "change a room: --disable refuses its connections, --enable lets them in",
    args: ["<name>"],
    flags: [
      ["--enable", "let connections in"],
      ["--disable", "refuse connections (and end its session)"],
      ["--metadata <json>", "replace its metadata"],
    ],
    run: async (a, [name], f) => {
      const changes: { enabled?: boolean; metadata?: JsonObject } = {};
      if (f.enable === true) changes.enabled = true;
      if (f.disable === true) changes.enabled = false;
      const metadata = jsonFlag(f, "metadata", "--metadata");
      if (metadata) changes.metadata = metadata;
      const room = await a.client.updateRoom(a.projectId, name, changes);
      return { done: `updated room ${name}`, value: { ...room } };
    },
  },
  {
    path: ["rooms", "delete"],
    description: "delete a room (its session ends; its files stay on the server's disk)",
    args: ["<name>"],
    run: async (a, [name]) => {
      await a.client.deleteRoom(a.projectId, name);
      return { done: `deleted room ${name}`, value: { deleted: name } };
    },
  },

  {
    path: ["webhook", "create"],
    description: "send the project's room events to a URL, signed (the secret is printed)",
    flags: [
      ["--name <name>", "its name"],
      ["--url <url>", "where to POST events"],
      [
        "--event <type>",
        "room.started, room.ended, participant.joined, participant.left",
        "repeat",
      ],
      ["--secret <secret>", "the signing secret (default: one is made)"],
    ],
    run: async (a, _, f) => {
      if (typeof f.url !== "string") throw new Error("webhook create: pass --url URL");
      const events = Array.isArray(f.event) && f.event.length > 0
        ? f.event as string[]
        : ["room.started", "room.ended"];
      const hook = await a.client.createWebhook(a.projectId, {
        name: typeof f.name === "string" ? f.name : new URL(f.url).host,
        url: f.url,
        events,
        secret: typeof f.secret === "string" ? f.secret : undefined,
      });
      return { object: { ...hook } };
    },
  },
  {
    path: ["webhook", "list"],
    description: "list the project's webhooks",
    run: async (a) => ({
      list: (await a.client.listWebhooks(a.projectId)).map((w) => ({ ...w })),
      columns: [
        col("name", "name"),
        col("id", "id"),
        col("url", "url"),
        { header: "events", value: (w) => (w.events as string[]).join(",") },
      ],
      empty: "no webhooks (add one with `meshagent webhook create --url URL`)",
    }),
  },
  {
    path: ["webhook", "delete"],
    description: "delete a webhook",
    args: ["<id>"],
    run: async (a, [id]) => {
      await a.client.deleteWebhook(a.projectId, id);
      return { done: `deleted webhook ${id}`, value: { deleted: id } };
    },
  },

  {
    path: ["service", "list"],
    description: "list the project's services (or one room's, with --room)",
    flags: [["--room <room>", "the room's own services"]],
    run: async (a, _, f) => ({
      list: await a.client.listServices(a.projectId, scope(f)),
      columns: [
        { header: "service", value: (s) => (s.metadata as JsonObject | undefined)?.name },
        col("id", "id"),
        {
          header: "url",
          value: (s) => (s.external as JsonObject | undefined)?.url ?? "(container)",
        },
      ],
      empty: typeof f.room === "string"
        ? `no services in room ${f.room}`
        : "no services (add one with `meshagent service create --file spec.json`)",
    }),
  },
  {
    path: ["service", "create"],
    description: "add a service from a ServiceSpec JSON file (to a room with --room)",
    flags: [["--file <file>", "the ServiceSpec"], ["--room <room>", "a room service"]],
    run: async (a, _, f) => {
      if (typeof f.file !== "string") throw new Error("service create: pass --file spec.json");
      const spec = await a.client.createService(a.projectId, await readSpec(f.file), scope(f));
      return { done: `created service ${spec.id}`, value: spec };
    },
  },
  {
    path: ["service", "delete"],
    description: "delete a service",
    args: ["<id>"],
    flags: [["--room <room>", "a room service"]],
    run: async (a, [id], f) => {
      await a.client.deleteService(a.projectId, id, scope(f));
      return { done: `deleted service ${id}`, value: { deleted: id } };
    },
  },
];

/** The flags every admin command takes. */
export function adminOptions(command: Command): Command {
  return jsonOption(command)
    .addOption(
      new Option(
        "--api-url <url>",
        "server URL (default: MESHAGENT_API_URL, the profile's, or http://127.0.0.1:8078)",
      ).argParser(serverUrl("--api-url")),
    )
    .option("--key <ma-key>", "API key (default: MESHAGENT_API_KEY or the profile's)")
    .option(
      "--project-id <id>",
      "project (default: MESHAGENT_PROJECT_ID, the profile's, the key's)",
    )
    .option("--profile <name>", "saved profile (default: MESHAGENT_PROFILE or the active one)")
    .option(
      "--data-dir <dir>",
      "data folder of a local server, whose key may be used",
      ".meshagent",
    );
}

function print(output: Output, printed: Printed, json: boolean | undefined): void {
  if ("list" in printed) {
    printList(output, printed.list, { json, columns: printed.columns, empty: printed.empty });
  } else if ("object" in printed) {
    printObject(output, printed.object, json);
  } else {
    printDone(output, json, printed.done, printed.value);
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Adds the admin command groups to the program (reusing a group that exists, e.g. `rooms`).
 *
 * @param program The root command.
 * @param output Where commands write.
 * @param descriptions The description of each group made here.
 */
export function addAdminCommands(
  program: Command,
  output: Output,
  descriptions: Readonly<Record<string, string>>,
): void {
  for (const spec of COMMANDS) {
    const [groupName, name] = spec.path;
    let group = program.commands.find((c) => c.name() === groupName);
    if (!group) {
      group = program.command(groupName).description(descriptions[groupName] ?? groupName);
    }
    const command = adminOptions(group.command([name, ...(spec.args ?? [])].join(" ")))
      .description(spec.description);
    for (const [flags, description, repeat] of spec.flags ?? []) {
      if (repeat) command.option(flags, description, collect);
      else command.option(flags, description);
    }
    command.action(async (...parameters: unknown[]) => {
      const args = parameters.slice(0, spec.args?.length ?? 0) as string[];
      const flags = parameters[spec.args?.length ?? 0] as Flags;
      const admin = await resolveAdmin({
        apiUrl: flags.apiUrl as string | undefined,
        key: flags.key as string | undefined,
        dataDir: flags.dataDir as string | undefined,
        projectId: flags.projectId as string | undefined,
        profile: flags.profile as string | undefined,
      });
      print(output, await spec.run(admin, args, flags), flags.json === true);
    });
  }
}

/** Group descriptions of the admin command groups. */
const GROUPS: Readonly<Record<string, string>> = {
  auth: "log in to a server and keep its API key as a profile (in the user's config folder)",
  project: "projects of a server",
  "api-key": "API keys of a project (they sign participant tokens and authenticate the admin API)",
  secret: "secrets (values kept by the server, versioned)",
  webhook: "send a project's room events to a URL, signed; or receive them",
  service: "services: agents and toolkits on HTTP that the server calls into rooms",
};

function interrupt(signal?: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal?.addEventListener("abort", stop, { once: true });
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(name, stop);
    } catch { /* not available here */ }
  }
  controller.signal.addEventListener("abort", () => {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.removeSignalListener(name, stop);
      } catch { /* removed already */ }
    }
  }, { once: true });
  return controller.signal;
}

/**
 * Adds `auth`, `project`, `api-key`, `secret`, `rooms create|get|update|delete`, `webhook`,
 * `service` and `call`.
 *
 * @param program The root command.
 * @param output Where commands write.
 * @param signal Stops long-running commands.
 */
export function addPlatformCommands(program: Command, output: Output, signal?: AbortSignal): void {
  const auth = program.command("auth").description(GROUPS.auth);
  jsonOption(auth.command("login"))
    .description("check an API key against a server and save it as the active profile")
    .addOption(
      new Option("--api-url <url>", "server URL (default: MESHAGENT_API_URL or local)")
        .argParser(serverUrl("--api-url")),
    )
    .option("--key <ma-key>", "the API key (default: MESHAGENT_API_KEY)")
    .option("--profile <name>", "the profile's name", "default")
    .action(async (opts) => {
      const { authLoginCommand } = await import("./auth_command.ts");
      await authLoginCommand(opts, output);
    });
  jsonOption(auth.command("logout [profile]"))
    .description("forget a profile (default: the active one)")
    .action(async (profile: string | undefined, opts) => {
      const { authLogoutCommand } = await import("./auth_command.ts");
      await authLogoutCommand(profile, output, opts.json);
    });
  jsonOption(auth.command("switch <profile>"))
    .description("make a saved profile the active one")
    .action(async (profile: string, opts) => {
      const { authSwitchCommand } = await import("./auth_command.ts");
      await authSwitchCommand(profile, output, opts.json);
    });
  jsonOption(auth.command("list")).description("the saved profiles").action(async (opts) => {
    const { authListCommand } = await import("./auth_command.ts");
    await authListCommand(output, opts.json);
  });
  adminOptions(auth.command("whoami")).description("who the current API key is")
    .action(async (opts) => {
      const { authWhoamiCommand } = await import("./auth_command.ts");
      await authWhoamiCommand(opts, output);
    });

  addAdminCommands(program, output, GROUPS);

  const webhook = program.commands.find((c) => c.name() === "webhook")!;
  webhook.command("listen")
    .description("receive webhooks here and print each verified event")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .addOption(
      new Option("--port <port>", "port (default 8090)").argParser((v) => Number(v)),
    )
    .option("--path <path>", "path", "/webhook")
    .option("--secret <secret>", "the signing secret (default: MESHAGENT_WEBHOOK_SECRET)")
    .option("--no-verify", "accept unsigned events")
    .addOption(new Option("--count <n>", "stop after n events").argParser((v) => Number(v)))
    .option("--json", "one JSON object per event")
    .action(async (opts) => {
      const { webhookListenCommand } = await import("./webhook_listen_command.ts");
      await webhookListenCommand(
        { ...opts, noVerify: opts.verify === false },
        output,
        interrupt(signal),
      );
    });

  const service = program.commands.find((c) => c.name() === "service")!;
  roomOptions(service.command("run [command...]"), "agent")
    .description(
      "run a ServiceHost program (after --) or use a running one (--url), and call its agents " +
        "into the room",
    )
    .option("--url <url>", "base URL of a ServiceHost that runs already")
    .addOption(new Option("--port <port>", "the program's port (default: a free one)")
      .argParser((v) => Number(v)))
    .option("--json", "one JSON line per call")
    .action(async (command: string[], opts) => {
      const { serviceRunCommand } = await import("./service_run_command.ts");
      const code = await serviceRunCommand(command ?? [], opts, output, interrupt(signal));
      if (code !== 0) throw new Error(`the service command exited with ${code}`);
    });

  roomOptions(jsonOption(program.command("call")))
    .description("ask the server to call a service (a ServiceHost path) into a room")
    .requiredOption("--url <url>", "the service's URL, e.g. http://127.0.0.1:8080/agent")
    .option("--name <name>", "the participant name it joins as", "agent")
    .option("--arguments <json>", "arguments for the service, a JSON object")
    .action(async (opts) => {
      const { callCommand } = await import("./call_command.ts");
      await callCommand(opts, output);
    });
}
