// The download URL signing secret kept in the server's data folder (Deno only): 32 random bytes
// in `<dataDir>/download-url-secret`, created once (mode 0600) so signed URLs survive restarts.
import { join } from "node:path";

/** The file name of the secret inside the data folder. */
export const DOWNLOAD_URL_SECRET_FILE = "download-url-secret";
const SECRET_BYTES = 32;

/**
 * Reads the secret, creating it atomically when missing (a temp file hard-linked into place, so
 * two processes starting at once agree on one secret and a crash never leaves a short file).
 */
export async function loadDownloadUrlSecret(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, DOWNLOAD_URL_SECRET_FILE);
  const existing = await read(file);
  if (existing) return existing;
  await Deno.mkdir(dataDir, { recursive: true });
  const temp = `${file}.${crypto.randomUUID()}.tmp`;
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  try {
    const f = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      await f.write(secret);
      await f.sync();
    } finally {
      f.close();
    }
    try {
      await Deno.link(temp, file);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  const stored = await read(file);
  if (!stored) throw new Error(`the download URL secret in ${file} is damaged; delete the file`);
  return stored;
}

async function read(file: string): Promise<Uint8Array | undefined> {
  try {
    const bytes = await Deno.readFile(file);
    return bytes.length >= 16 ? bytes : undefined;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
