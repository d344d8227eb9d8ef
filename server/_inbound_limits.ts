// The server's limits on what participants may make it hold for input they have not finished
// sending: bytes of incomplete messages per connection and for the whole server, the time from a
// message's header to its last packet, and the connections open at once with the same token.
import type { PacketAssembler } from "@meshagent/api";
import { releaseMemory } from "./_release_memory.ts";

/** The limits (see `RoomServerInboundOptions` for the defaults and why). */
export interface InboundLimitsOptions {
  /** Bytes one connection may hold in incomplete input; over it → 1009. */
  maxConnectionBytes: number;
  /** Bytes all connections together may hold in incomplete input; over it → 1013. */
  maxServerBytes: number;
  /** Milliseconds from a message's header (or a frame's first bytes) to its end; over it → 1008. */
  messageTimeoutMs: number;
  /** Connections open at once with the same token; 0: no limit. */
  maxConnectionsPerToken: number;
}

/** The part of a connection's socket an account reads (optional parts count as 0). */
export interface InboundSocket {
  /** Received bytes of an incomplete WebSocket frame or fragmented message. */
  readonly pendingBytes?: number;
  /** WebSocket messages received so far. */
  readonly framesReceived?: number;
  /** Drops the connection without a closing handshake. */
  terminate?(): void;
}

/** Closes a connection for its input: discards what it holds, then closes with code and reason. */
export type InboundClose = (code: number, reason: string) => void;

/**
 * [impl] A socket closed for its input gets this long (its close frame, the drain of what it was
 * still sending, the peer's close frame) before it is cut off: ws alone would wait 30 s, holding
 * whatever incomplete frame the peer keeps sending.
 */
const CLOSE_GRACE_MS = 5000;

/**
 * [impl] Once connections closed for their input or ended with incomplete input have dropped this
 * much, memory is handed back to the system (a full GC and `malloc_trim`, see _release_memory.ts)
 * {@linkcode TRIM_AFTER_MS} after the last drop: soon after a flood ends, and once more when the
 * connections closing then are surely gone. A flood that goes on keeps pushing it back.
 */
const TRIM_AFTER_BYTES = 16 * 1024 * 1024;
const TRIM_AFTER_MS = [1000, CLOSE_GRACE_MS + 1000];

interface Group {
  readonly key: string;
  connections: number;
  bytes: number;
  accounts: Set<InboundAccount>;
}

function mib(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * The ledger of one server: connections per token, and the incomplete input of every connection.
 *
 * [impl] When the server-wide budget is passed, the connection closed is the biggest holder of
 * the token that holds the most (not simply the one whose bytes arrived last): one token's flood
 * cannot push out the messages of participants holding other tokens.
 */
export class InboundLimits {
  readonly options: InboundLimitsOptions;
  readonly #groups = new Map<string, Group>();
  readonly #accounts = new Set<InboundAccount>();
  #total = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Bytes dropped since the last trim was scheduled, and the trims scheduled. */
  #dropped = 0;
  #trims: ReturnType<typeof setTimeout>[] = [];

  /**
   * Creates the value.
   *
   * @param options The limits.
   */
  constructor(options: InboundLimitsOptions) {
    this.options = options;
  }

  /** Bytes of incomplete input held by all connections. */
  get totalBytes(): number {
    return this.#total;
  }

  /**
   * Counts a connection of a token, unless the token has its limit of connections open.
   *
   * @param token The token's key (the same key for the same token).
   * @returns Null when counted (call {@linkcode InboundLimits.disconnect} once it ends), else the
   *   close reason.
   */
  connect(token: string): string | null {
    const group = this.#group(token);
    const limit = this.options.maxConnectionsPerToken;
    if (limit > 0 && group.connections >= limit) {
      // (never a new group: the limit is at least 1)
      return `too many connections: this token already has ${group.connections} open (the limit)`;
    }
    group.connections++;
    return null;
  }

  /**
   * Uncounts a connection counted by {@linkcode InboundLimits.connect}.
   *
   * @param token The token's key.
   */
  disconnect(token: string): void {
    const group = this.#groups.get(token);
    if (!group) return;
    group.connections--;
    this.#prune(group);
  }

  /**
   * Opens the account of one connection's incomplete input.
   *
   * @param token The token's key.
   * @param assembler The connection's packet assembler.
   * @param socket The connection's socket.
   * @param close Closes the connection for its input.
   * @returns The account; call `update` after input arrived and `end` when the connection ended.
   */
  open(
    token: string,
    assembler: PacketAssembler,
    socket: InboundSocket,
    close: InboundClose,
  ): InboundAccount {
    const account = new InboundAccount(this, this.#group(token), assembler, socket, close);
    this.#accounts.add(account);
    this.#sweeper ??= setInterval(
      () => this.#sweep(),
      Math.max(50, Math.min(1000, this.options.messageTimeoutMs / 4)),
    );
    return account;
  }

  /** @internal Adds to the total (the account changed its group's bytes itself). */
  adjust(delta: number): void {
    this.#total += delta;
  }

  /** @internal Enforces the server-wide budget: closes the heaviest holders until it is met. */
  enforce(): void {
    const max = this.options.maxServerBytes;
    // Each round closes one connection (or cuts off one already closing): its bytes go down.
    for (let round = 0; this.#total > max && round < 10_000; round++) {
      const victim = this.#heaviest();
      if (!victim) break;
      victim.exceeded(
        1013,
        `server busy: incomplete messages passed the server's budget of ${mib(max)}; try later`,
      );
    }
  }

  /** @internal An account ended. */
  ended(account: InboundAccount, group: Group): void {
    this.#accounts.delete(account);
    group.accounts.delete(account);
    this.#prune(group);
    if (this.#accounts.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** @internal Incomplete input was dropped (a connection closed for its input, or gone). */
  dropped(bytes: number): void {
    this.#dropped += bytes;
    if (this.#dropped < TRIM_AFTER_BYTES) return;
    this.#dropped = 0;
    for (const timer of this.#trims) clearTimeout(timer);
    this.#trims = TRIM_AFTER_MS.map((ms) => setTimeout(releaseMemory, ms));
  }

  /** Stops the sweeper and the trims (the server is stopping; accounts end with their sockets). */
  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const timer of this.#trims) clearTimeout(timer);
    this.#trims = [];
  }

  #group(token: string): Group {
    let group = this.#groups.get(token);
    if (!group) {
      group = { key: token, connections: 0, bytes: 0, accounts: new Set() };
      this.#groups.set(token, group);
    }
    return group;
  }

  #prune(group: Group): void {
    if (group.connections <= 0 && group.accounts.size === 0) this.#groups.delete(group.key);
  }

  /** The account holding the most of the token holding the most. */
  #heaviest(): InboundAccount | undefined {
    let heaviest: Group | undefined;
    for (const group of this.#groups.values()) {
      if (group.bytes > 0 && (!heaviest || group.bytes > heaviest.bytes)) heaviest = group;
    }
    let victim: InboundAccount | undefined;
    for (const account of heaviest?.accounts ?? []) {
      if (account.bytes > 0 && (!victim || account.bytes > victim.bytes)) victim = account;
    }
    return victim;
  }

  #sweep(): void {
    const now = performance.now();
    for (const account of this.#accounts) account.sweep(now, this.options.messageTimeoutMs);
  }
}

/**
 * The incomplete input of one connection: the bytes its packet assembler holds for an incomplete
 * message plus the bytes its socket holds of an incomplete frame.
 */
export class InboundAccount {
  /** Bytes last recorded in the ledger. */
  bytes = 0;
  readonly #limits: InboundLimits;
  readonly #group: Group;
  readonly #assembler: PacketAssembler;
  readonly #socket: InboundSocket;
  readonly #close: InboundClose;
  /** Since when (performance.now) the connection is closing for its input; -1: it is not. */
  #closingSince = -1;
  #ended = false;
  /** The incomplete message seen at the last sweep (its `messagesStarted`) and since when. */
  #message = -1;
  #messageSince = 0;
  /** The incomplete frame seen at the last sweep (`framesReceived`) and since when. */
  #frame = -1;
  #frameSince = 0;

  /** @internal Made by {@linkcode InboundLimits.open}. */
  constructor(
    limits: InboundLimits,
    group: Group,
    assembler: PacketAssembler,
    socket: InboundSocket,
    close: InboundClose,
  ) {
    this.#limits = limits;
    this.#group = group;
    this.#assembler = assembler;
    this.#socket = socket;
    this.#close = close;
    group.accounts.add(this);
  }

  /** True once the connection is being closed for its input. */
  get closing(): boolean {
    return this.#closingSince >= 0;
  }

  /** Reads what the connection holds now and enforces the budgets. */
  update(): void {
    if (this.#ended) return;
    const bytes = this.#read();
    if (bytes === this.bytes) return;
    this.#record(bytes);
    const max = this.#limits.options.maxConnectionBytes;
    // [impl] One closing already may go on to twice its budget (the rest of a frame in flight)
    // before it is cut off without its close frame.
    if (bytes > max && (!this.closing || bytes > 2 * max)) {
      return this.exceeded(
        1009,
        `message too big: this connection's incomplete messages passed its budget of ${mib(max)}`,
      );
    }
    this.#limits.enforce();
  }

  /**
   * Closes the connection for its input (once); a connection already closing is cut off.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  exceeded(code: number, reason: string): void {
    if (this.#ended) return;
    if (this.closing) return this.#terminate();
    this.#closingSince = performance.now();
    const held = this.bytes;
    this.#close(code, reason); // discards the assembler's message
    this.#record(this.#read());
    this.#limits.dropped(held);
  }

  /** Marks the connection as closing for its input (it was closed by other means). */
  closingForInput(): void {
    if (this.#closingSince < 0) this.#closingSince = performance.now();
  }

  /** @internal The time limits, checked every sweep. */
  sweep(now: number, timeoutMs: number): void {
    if (this.#ended) return;
    if (this.closing) {
      if (now - this.#closingSince > CLOSE_GRACE_MS) this.#terminate();
      return;
    }
    const assembler = this.#assembler;
    if (!assembler.busy) {
      this.#message = -1;
    } else if (assembler.messagesStarted !== this.#message) {
      this.#message = assembler.messagesStarted;
      this.#messageSince = now;
    } else if (now - this.#messageSince >= timeoutMs) {
      return this.exceeded(
        1008,
        `message not completed within ${seconds(timeoutMs)} of its header`,
      );
    }
    const socket = this.#socket;
    if (!(socket.pendingBytes! > 0)) {
      this.#frame = -1;
    } else if (socket.framesReceived !== this.#frame) {
      this.#frame = socket.framesReceived ?? 0;
      this.#frameSince = now;
    } else if (now - this.#frameSince >= timeoutMs) {
      return this.exceeded(
        1008,
        `message not completed within ${seconds(timeoutMs)} of its header`,
      );
    }
  }

  /** The connection ended: its bytes leave the ledger. */
  end(): void {
    if (this.#ended) return;
    if (this.bytes > 0) this.#limits.dropped(this.bytes);
    this.#record(0);
    this.#ended = true;
    this.#limits.ended(this, this.#group);
  }

  #terminate(): void {
    this.end();
    this.#socket.terminate?.();
  }

  #read(): number {
    return this.#assembler.bufferedBytes + (this.#socket.pendingBytes ?? 0);
  }

  /** Records the bytes in the ledger, enforcing nothing. */
  #record(bytes: number): void {
    const delta = bytes - this.bytes;
    if (delta === 0) return;
    this.bytes = bytes;
    this.#group.bytes += delta;
    this.#limits.adjust(delta);
  }
}
