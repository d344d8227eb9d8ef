// Browser-only: who the console is logged in as. An `ma-…` API key lists the project's rooms and
// mints a participant token per room through the server's REST admin API; a participant token
// joins its own room only.
import {
  ApiScope,
  Meshagent,
  MeshagentApiError,
  parseApiKey,
  ParticipantToken,
  RoomClient,
} from "@meshagent/api";

/** A room as the rooms view lists it. */
export interface ConsoleRoom {
  /** The room name. */
  name: string;
  /** True while the room runs on the server. */
  active: boolean;
  /** Participants connected now (when the server says). */
  participants: number | null;
}

/** The participant name the console joins rooms as. [impl] */
const CONSOLE_NAME = "console";

/** What a bad credential is, in words a person can act on. */
export class LoginError extends Error {
  /**
   * Creates the value.
   *
   * @param message What is wrong and what to paste instead.
   */
  constructor(message: string) {
    super(message);
    this.name = "LoginError";
  }
}

/** A logged-in console: lists rooms and connects to them. */
export class ConsoleSession {
  readonly #base: string;
  readonly #admin?: Meshagent;
  readonly #projectId?: string;
  readonly #token?: string;
  /** The room of a pasted token (null with an API key). */
  readonly tokenRoom: string | null;

  private constructor(
    base: string,
    credential: { apiKey: string; projectId: string } | {
      token: string;
      room: string;
    },
  ) {
    this.#base = base;
    if ("apiKey" in credential) {
      this.#admin = new Meshagent({ baseUrl: base, apiKey: credential.apiKey, timeout: 10_000 });
      this.#projectId = credential.projectId;
      this.tokenRoom = null;
    } else {
      this.#token = credential.token;
      this.tokenRoom = credential.room;
    }
  }

  /**
   * Checks a pasted credential and logs in with it.
   *
   * @param base The server's HTTP base URL.
   * @param pasted An API key (`ma-…`) or a participant token (a JWT).
   * @returns The session.
   * @throws {LoginError} When the credential is malformed or the server refuses it.
   */
  static async login(base: string, pasted: string): Promise<ConsoleSession> {
    const value = pasted.trim();
    if (value === "") throw new LoginError("paste an API key (ma-…) or a participant token");
    if (value.startsWith("ma-")) {
      let projectId: string;
      try {
        projectId = parseApiKey(value).projectId;
      } catch (e) {
        throw new LoginError((e as Error).message);
      }
      const session = new ConsoleSession(base, { apiKey: value, projectId });
      await session.rooms(); // the server checks the key here
      return session;
    }
    let room: string | null;
    try {
      room = ParticipantToken.decodeUnverified(value).roomName;
    } catch {
      throw new LoginError(
        "this is neither an API key (ma-…) nor a participant token (a JWT, three base64url " +
          "parts joined by dots): copy the key `meshagent server` printed, or a token from " +
          "`meshagent token`",
      );
    }
    if (!room) {
      throw new LoginError("this participant token has no room grant: mint one with --room");
    }
    return new ConsoleSession(base, { token: value, room });
  }

  /**
   * The rooms the credential can see: the project's with an API key, the token's own with a token.
   *
   * @returns The rooms.
   */
  async rooms(): Promise<ConsoleRoom[]> {
    if (!this.#admin) return [{ name: this.tokenRoom!, active: true, participants: null }];
    try {
      const rooms = await this.#admin.listRooms(this.#projectId!);
      return rooms.map((r) => {
        const extra = r as unknown as { active?: boolean; participant_count?: number };
        return {
          name: r.name,
          active: extra.active ?? false,
          participants: typeof extra.participant_count === "number"
            ? extra.participant_count
            : null,
        };
      }).sort((a, b) => a.name.localeCompare(b.name));
    } catch (e) {
      if (e instanceof MeshagentApiError && (e.status === 401 || e.status === 403)) {
        throw new LoginError(
          `the server refused this API key (${e.status}): ${e.message}. Paste the key ` +
            "`meshagent server` printed for this server (MESHAGENT_API_KEY)",
        );
      }
      throw e;
    }
  }

  /**
   * Connects to a room (minting a token with an API key). The caller disposes the client.
   *
   * @param room The room name.
   * @returns The started client.
   */
  async connect(room: string): Promise<RoomClient> {
    let token = this.#token;
    if (this.#admin) {
      token = await this.#admin.createParticipantToken(this.#projectId!, {
        name: CONSOLE_NAME,
        roomName: room,
        api: ApiScope.full(),
      });
    } else if (room !== this.tokenRoom) {
      throw new LoginError(`this token is for room ${this.tokenRoom}, not ${room}`);
    }
    const url = `${this.#base.replace(/^http/, "ws")}/rooms/${encodeURIComponent(room)}`;
    // [impl] Reconnect for 5 minutes after a drop; requests time out after 30 s.
    const client = new RoomClient({
      url,
      token: token!,
      tokenTransport: "subprotocol",
      reconnectTimeout: 300_000,
      requestTimeout: 30_000,
    });
    try {
      await client.start({ timeout: 10_000 });
    } catch (e) {
      await client.dispose();
      throw new LoginError(
        `cannot join room ${room}: ${(e as Error).message}. A browser cannot see why the server ` +
          "refused the connection: check that the token is for this server and not expired",
      );
    }
    return client;
  }
}
