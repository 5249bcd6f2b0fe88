/**
 * A minimal writer for the `newc` cpio format the kernel unpacks as an
 * initramfs: directories, regular files and symlinks, all owned by root.
 * Entries map an archive path to host bytes, so the image is assembled
 * without copying the host files into a staging directory first.
 *
 * @module
 */

/** One archive member. Paths are relative (`bin/sh`, no leading `/`). */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; mode: number; from: string }
  | { kind: "data"; path: string; mode: number; data: Uint8Array }
  | { kind: "symlink"; path: string; target: string };

/**
 * Every member gets this modification time, except host files, which keep
 * theirs: Deno compares them (node_modules against deno.lock) and must see
 * the project as it is on the host.
 */
const NOW = Math.floor(Date.now() / 1000);

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const enc = new TextEncoder();

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): Uint8Array {
  return new Uint8Array((4 - (n % 4)) % 4);
}

/** The 110-byte header, the NUL-terminated name, and padding to 4 bytes. */
function header(
  ino: number,
  mode: number,
  size: number,
  name: string,
  mtime = NOW,
): Uint8Array[] {
  const nameBytes = enc.encode(`${name}\0`);
  const fields = [
    ino,
    mode,
    0, // uid
    0, // gid
    1, // nlink
    mtime,
    size,
    0, // devmajor
    0, // devminor
    0, // rdevmajor
    0, // rdevminor
    nameBytes.length,
    0, // check
  ];
  const head = enc.encode(`070701${fields.map(hex8).join("")}`);
  return [head, nameBytes, pad4(head.length + nameBytes.length)];
}

/**
 * Writes `entries` as a newc archive to `out`, parents before children as
 * given, then the trailer. Returns the number of bytes written.
 */
export async function writeCpio(
  out: string,
  entries: readonly CpioEntry[],
): Promise<number> {
  const file = await Deno.open(out, {
    write: true,
    create: true,
    truncate: true,
  });
  let written = 0;
  const put = async (chunks: Uint8Array[]) => {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += await file.write(c.subarray(off));
      written += c.length;
    }
  };
  try {
    let ino = 1;
    for (const e of entries) {
      let data: Uint8Array;
      let mode: number;
      let mtime = NOW;
      if (e.kind === "dir") {
        data = new Uint8Array();
        mode = S_IFDIR | (e.mode ?? 0o755);
      } else if (e.kind === "symlink") {
        data = enc.encode(e.target);
        mode = S_IFLNK | 0o777;
      } else {
        data = e.kind === "file" ? await Deno.readFile(e.from) : e.data;
        mode = S_IFREG | e.mode;
        if (e.kind === "file") {
          const t = (await Deno.stat(e.from)).mtime;
          if (t) mtime = Math.floor(t.getTime() / 1000);
        }
      }
      await put([...header(ino++, mode, data.length, e.path, mtime), data]);
      await put([pad4(data.length)]);
    }
    await put(header(0, 0, 0, "TRAILER!!!"));
  } finally {
    file.close();
  }
  return written;
}
