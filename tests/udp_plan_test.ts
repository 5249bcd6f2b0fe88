/**
 * `[net] udp = "dns"` reads the nameservers from the file the sandbox will
 * see as /etc/resolv.conf; inside a `[runtime] root` its symlinks resolve
 * in the root, as they will after the pivot, not on the host.
 */

import assert from "node:assert/strict";
import { planUdp } from "../broker/udp_plan.ts";
import type { Policy } from "../policy/schema.ts";
import { tempDir } from "./helpers.ts";

const policy = (extra: Partial<Policy>) =>
  ({
    version: 1,
    net: { handled_access_net: ["bind_tcp"], udp: "dns" },
    ...extra,
  }) as Policy;

Deno.test("inside a runtime root, an absolute resolv.conf symlink is followed in the root", () => {
  const root = tempDir("rootfs-");
  Deno.mkdirSync(`${root}/etc`);
  Deno.mkdirSync(`${root}/run/resolve`, { recursive: true });
  Deno.writeTextFileSync(
    `${root}/run/resolve/stub.conf`,
    "nameserver 127.9.9.9\n",
  );
  // On the host this would name a file that does not exist.
  Deno.symlinkSync(
    "/run/resolve/stub.conf",
    `${root}/etc/resolv.conf`,
  );
  const plan = planUdp(policy({ runtime: { root } } as Partial<Policy>));
  assert.deepEqual(plan?.nameservers, ["127.9.9.9"]);
  assert.equal(plan?.resolv_conf, `/etc/resolv.conf in ${root}`);
});

Deno.test("a symlink that climbs out of the runtime root stays inside it", () => {
  const root = tempDir("rootfs-");
  Deno.mkdirSync(`${root}/etc`);
  Deno.symlinkSync("../../../../../../etc/hostname", `${root}/etc/resolv.conf`);
  // Nothing at /etc/hostname inside the root: no file, so 127.0.0.1.
  const plan = planUdp(policy({ runtime: { root } } as Partial<Policy>));
  assert.deepEqual(plan?.nameservers, ["127.0.0.1"]);
});

Deno.test('a [mount] bind onto /etc/resolv.conf wins; without udp = "dns" there is no plan', () => {
  const dir = tempDir("resolv-");
  Deno.writeTextFileSync(`${dir}/rc`, "nameserver ::1\nnameserver 10.0.0.2\n");
  const plan = planUdp(policy({
    mount: {
      bind: [{
        source: `${dir}/rc`,
        target: "/etc/resolv.conf",
        read_only: true,
      }],
    },
  }));
  assert.deepEqual(plan?.nameservers, ["0:0:0:0:0:0:0:1", "10.0.0.2"]);
  assert.equal(
    planUdp(
      { version: 1, net: { handled_access_net: ["bind_tcp"] } } as Policy,
    ),
    undefined,
  );
});
