import assert from "node:assert/strict";
import { formatDiagnostic } from "./diagnostic.ts";
import { parseDocument } from "./validate.ts";

const CASES: { name: string; text: string; message: string }[] = [
  {
    name: "a [[header]] missing its ] is reported on its own line",
    text: 'version = 1\n[[fs_layer]\nhandled_access_fs = ["ro"]\n',
    message:
      'p.toml:2:1: TOML syntax error: table header "[[fs_layer]": expected [[name]], with its closing ]] on the same line',
  },
  {
    name:
      "a [[header]] missing its ] at the end of the file (smol-toml accepts it)",
    text: "version = 1\n[[fs_layer]\n",
    message: 'p.toml:2:1: TOML syntax error: table header "[[fs_layer]"',
  },
  {
    name: "a [header] missing its ]",
    text: 'version = 1\n[net\nhandled_access_net = ["bind_tcp"]\n',
    message:
      'p.toml:2:1: TOML syntax error: table header "[net": expected [name]',
  },
  {
    name: "an unterminated string",
    text: 'version = 1\ndescription = "abc\n[net]\n',
    message:
      "p.toml:2:15: TOML syntax error: unterminated string: a string must end on the line it starts",
  },
  {
    name: 'an unterminated """ string',
    text: 'version = 1\ndescription = """abc\n[net]\n',
    message:
      'p.toml:2:1: TOML syntax error: unterminated string: the """ string is never closed',
  },
];

for (const c of CASES) {
  Deno.test(`TOML syntax: ${c.name}`, () => {
    const source = { name: "p.toml", text: c.text };
    const r = parseDocument(source);
    assert.ok(r.diagnostics, "expected an error");
    const got = formatDiagnostic(source, r.diagnostics[0]);
    assert.ok(got.startsWith(c.message), got);
  });
}

Deno.test("valid documents with strings, comments and nested arrays pass the scan", () => {
  const text = `version = 1 # [not a header
description = "a [bracket] and a # hash and \\" quote"
literal = 'C:\\path'
multi = """
[not a header]
"""
rule = [
  { path = "/x", allowed_access = ["ro"] }, # --allow-read
  [1, 2],
]
[[fs_layer]] # a comment
handled_access_fs = ["ro"]
[ "quoted key" ]
a = 1
`;
  const r = parseDocument({ name: "p.toml", text });
  assert.ok(r.doc, JSON.stringify(r.diagnostics));
});
