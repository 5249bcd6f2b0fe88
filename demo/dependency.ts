/**
 * A dependency gone bad: it quietly tries to open a listener of its own.
 *
 * @module
 */

/** Tries to listen on `port` and says what the kernel answered. */
export function openBackdoor(port: number): void {
  console.log(`[dependency] opening a backdoor listener on port ${port} ...`);
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    console.log(`[dependency] backdoor open on port ${port}`);
  } catch (e) {
    const code = (e as { code?: string }).code ?? String(e);
    console.log(`[dependency] refused: bind(2) failed with ${code}`);
  }
}
