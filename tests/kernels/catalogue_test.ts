/**
 * The pure parts of the kernel catalogue: which Landlock ABI a kernel
 * series must report, and which package of a series is the newest.
 * (The kernels themselves boot in `deno task test:kernels`.)
 */
import assert from "node:assert/strict";
import { abiOfSeries, compareReleases } from "./catalogue.ts";

Deno.test("a kernel series expects the ABI of the newest Landlock release it contains", () => {
  const table: [string, number][] = [
    ["5.10", 0],
    ["5.13", 1],
    ["5.15", 1],
    ["6.1", 2],
    ["6.2", 3],
    ["6.6", 3],
    ["6.8", 4],
    ["6.11", 5],
    ["6.12", 6],
    ["6.18", 7],
  ];
  for (const [series, abi] of table) {
    assert.equal(abiOfSeries(series), abi, series);
  }
});

Deno.test("releases compare by their numbers, not as text", () => {
  const sorted = [
    "6.12.117+deb12-cloud-amd64",
    "6.1.0-9-cloud-amd64",
    "6.12.95+deb12-cloud-amd64",
    "6.1.0-57-cloud-amd64",
  ].sort(compareReleases);
  assert.deepEqual(sorted, [
    "6.1.0-9-cloud-amd64",
    "6.1.0-57-cloud-amd64",
    "6.12.95+deb12-cloud-amd64",
    "6.12.117+deb12-cloud-amd64",
  ]);
});
