/**
 * `deno task build`: compiles ffi/landlockd.c into ffi/build/liblandlockd.so.
 * Skips the compiler when the library is newer than its sources.
 *
 * @module
 */

const here = new URL(".", import.meta.url);
const sources = ["landlockd.c", "landlockd.h"].map((f) => new URL(f, here));
const output = new URL("build/liblandlockd.so", here);

function mtime(url: URL): number {
  try {
    return Deno.statSync(url).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

if (sources.every((s) => mtime(s) <= mtime(output))) Deno.exit(0);

Deno.mkdirSync(new URL("build/", here), { recursive: true });
const cc = Deno.env.get("CC") ?? "cc";
const args = [
  "-O2",
  "-std=gnu11",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-fPIC",
  "-shared",
  "-o",
  output.pathname,
  new URL("landlockd.c", here).pathname,
];
let result;
try {
  result = new Deno.Command(cc, { args }).outputSync();
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
  console.error(
    `build: no C compiler "${cc}": install one (Debian: apt-get install gcc)`,
  );
  Deno.exit(1);
}
Deno.stderr.writeSync(result.stderr);
if (!result.success) Deno.exit(result.code || 1);
