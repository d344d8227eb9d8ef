// Speech for the voice tests: espeak-ng says the text, sox makes it 24 kHz mono PCM16 (the
// Realtime API's format). Both are Debian packages (.ci/run installs them); without them the
// tests fail saying so.

/**
 * Speaks `text` as raw PCM16 little-endian, mono, at `rate` Hz.
 *
 * @param text What to say.
 * @param rate The sample rate (default 24000).
 * @returns The samples.
 */
export async function speech(text: string, rate = 24000): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "meshagent-speech-" });
  try {
    const wav = `${dir}/speech.wav`;
    await run("espeak-ng", ["-w", wav, text]);
    const raw = `${dir}/speech.raw`;
    await run("sox", [
      wav,
      "-r",
      String(rate),
      "-c",
      "1",
      "-b",
      "16",
      "-e",
      "signed-integer",
      "-t",
      "raw",
      raw,
    ]);
    return await Deno.readFile(raw);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(command: string, args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  } catch (error) {
    throw new Error(
      `${command} is needed to make test speech (apt-get install espeak-ng sox): ${
        (error as Error).message
      }`,
    );
  }
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}
