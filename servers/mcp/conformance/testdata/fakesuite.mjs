// A stand-in for the conformance suite's CLI, for conformance_test.go:
// `node fakesuite.mjs server --url URL ... -o DIR` writes, for each entry of
// $FAKE_RESULTS ("scenario=ok" or "scenario=check-a,check-b" for failing
// checks, separated by spaces), DIR/server-SCENARIO-TIMESTAMP/checks.json with
// a passing wire-schema-valid check, and prints the suite's progress lines.
// It first makes one HTTP request to URL, so a dead server shows.
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
if (args[0] === "--version") {
  console.log("0.0.0-fake");
  process.exit(0);
}
const opt = (name) => args[args.indexOf(name) + 1];
const url = opt("--url"), out = opt("-o");
await fetch(url, { method: "POST", body: "{}" }).catch((e) => {
  console.error(`fake suite: ${url}: ${e.message}`);
  process.exit(1);
});
for (const item of (process.env.FAKE_RESULTS ?? "").split(/\s+/).filter(Boolean)) {
  const [scenario, spec] = item.split("=");
  console.log(`\n=== Running scenario: ${scenario} ===`);
  if (spec === "none") continue; // started, wrote nothing
  const checks = [{ id: "wire-schema-valid", status: "SUCCESS" }];
  if (spec !== "ok") for (const id of spec.split(",")) checks.push({ id, status: "FAILURE", errorMessage: `${id} broke` });
  const dir = path.join(out, `server-${scenario}-2026-01-02T03-04-05-678Z`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "checks.json"), JSON.stringify(checks));
}
