import { connect } from "./mod.ts";
const policy = `version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/etc"
  allowed_access = ["read_file", "read_dir"]
[broker]
allow_read = ["/tmp/tmp.mzwN9ZZA0G/secret"]
`;
const c = await connect("/tmp/tmp.QoeuE0qsLn/s");
let errors = 0, n = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (n++ < 3000) {
    try {
      const r = await c.run({
        policy,
        argv: ["cat", "/tmp/tmp.mzwN9ZZA0G/secret"],
      });
      if (r.code !== 0) {
        errors++;
        console.log("code", r.code, new TextDecoder().decode(r.stderr));
      }
    } catch (e) {
      errors++;
      console.log("ERR", (e as Error).message);
    }
  }
}));
console.log("errors", errors);
c.close();
