import { type ApiKey, ParticipantToken, ROOM_SUBPROTOCOL_PREFIX, TokenError } from "@meshagent/api";

/** The outcome of checking a WebSocket handshake against the trusted keys (§3.7). */
export type Admission =
  | { ok: true; token: ParticipantToken; jwt: string; key: ApiKey; protocol?: string }
  | { ok: false; status: number; text: string };

/**
 * The API keys a server trusts, looked up on every handshake (so a key made through the admin
 * API works at once and a revoked one fails at once).
 */
export interface TrustedKeys {
  /** The key with this id (a token's `kid`), if trusted. */
  get(keyId: string): ApiKey | undefined;
  /** The key that verifies a token without `kid`, if there is exactly one. */
  sole(): ApiKey | undefined;
}

const BEARER = /^bearer\s+(.+)$/i;

function deny(text: string): Admission {
  // Always 403, never 401: the official clients retry 401 forever (§1.3).
  return { ok: false, status: 403, text };
}

/**
 * Finds the token (Authorization: Bearer, then the first `meshagent-room.` subprotocol, then the
 * `?token=` query parameter of npm 0.39.9), verifies it, and checks the room grant.
 *
 * @param request The upgrade request.
 * @param url The parsed request URL.
 * @param room The (valid) room name from the path.
 * @param keys The trusted API keys.
 * @returns The admitted token (its JWT and the key that signed it) and the subprotocol to echo,
 *   or a status and text.
 */
export async function admit(
  request: Request,
  url: URL,
  room: string,
  keys: TrustedKeys,
): Promise<Admission> {
  // The subprotocol is echoed whenever one was offered: a browser fails the handshake otherwise.
  let protocol: string | undefined;
  let fromProtocol: string | undefined;
  const offered = request.headers.get("sec-websocket-protocol");
  if (offered) {
    for (const entry of offered.split(",")) {
      const value = entry.trim();
      if (value.startsWith(ROOM_SUBPROTOCOL_PREFIX)) {
        protocol = value;
        fromProtocol = value.slice(ROOM_SUBPROTOCOL_PREFIX.length);
        break;
      }
    }
  }
  const bearer = BEARER.exec(request.headers.get("authorization") ?? "")?.[1]?.trim();
  const jwt = bearer || fromProtocol || url.searchParams.get("token") || undefined;
  if (!jwt) return deny("forbidden: no participant token (send Authorization: Bearer <jwt>)");

  let token: ParticipantToken;
  let key: ApiKey | undefined;
  try {
    // The key id is read first (unverified) only to pick the secret and to name an unknown key.
    const kid = ParticipantToken.decodeUnverified(jwt).apiKeyId;
    if (kid !== undefined) {
      key = keys.get(kid);
      if (!key) return deny(`forbidden: unknown_key: API key ${kid} is not trusted here`);
    } else {
      // [inferred] A token without `kid` (signed with MESHAGENT_SECRET) is accepted only when
      // exactly one key is trusted: its secret must verify it.
      key = keys.sole();
    }
    if (!key) return deny("forbidden: unknown_key: the token has no kid claim");
    token = await ParticipantToken.fromJwt(jwt, { secret: key.secret });
    if (token.projectId !== undefined && token.projectId !== key.projectId) {
      return deny("forbidden: the token belongs to another project");
    }
  } catch (e) {
    if (e instanceof TokenError) return deny(`forbidden: ${e.code}: ${e.message}`);
    return deny("forbidden: the participant token could not be verified");
  }
  if (!token.canJoinRoom(room)) {
    return deny(`forbidden: the token has no room grant for ${room}`);
  }
  return protocol === undefined
    ? { ok: true, token, jwt, key }
    : { ok: true, token, jwt, key, protocol };
}
