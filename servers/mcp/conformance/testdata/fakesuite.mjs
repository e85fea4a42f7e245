// A stand-in for the conformance suite's CLI, for conformance_test.go.
//
// `node fakesuite.mjs list --requirements REV` prints a requirement set as the
// suite does: the scenarios of $FAKE_REQUIRED (default: those of
// $FAKE_RESULTS) as required server scenarios, those of $FAKE_NOT_SCORED as
// server scenarios run but not scored, both separated by spaces.
//
// `node fakesuite.mjs server --url URL ... -o DIR` writes, for each entry of
// $FAKE_RESULTS ("scenario=ok" or "scenario=check-a,check-b" for failing
// checks, "scenario=none" for one that starts and writes nothing, separated
// by spaces), DIR/server-SCENARIO-TIMESTAMP/checks.json with a passing
// wire-schema-valid check, and prints the suite's progress lines. It first
// makes one HTTP request to URL, so a dead server shows. It exits as the suite
// does, 1 when a required scenario failed, else 0; $FAKE_EXIT overrides that.
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
if (args[0] === "--version") {
  console.log("0.0.0-fake");
  process.exit(0);
}
const opt = (name) => args[args.indexOf(name) + 1];
const words = (s) => (s ?? "").split(/\s+/).filter(Boolean);
const results = words(process.env.FAKE_RESULTS).map((item) => item.split("="));
const required = process.env.FAKE_REQUIRED !== undefined ? words(process.env.FAKE_REQUIRED) : results.map(([s]) => s);
const notScored = words(process.env.FAKE_NOT_SCORED);

if (args[0] === "list") {
  console.log(`Required for ${opt("--requirements")} (${required.length + 1} scenarios, frozen; run at the ${opt("--requirements")} wire):\n`);
  console.log("Server scenarios (test against a server):");
  for (const s of required) console.log(`  - ${s}`);
  console.log("\nClient scenarios (test against a client):\n  - initialize\n");
  if (notScored.length > 0) {
    console.log("Run and reported, but never scored:");
    console.log(`  extension (${notScored.length + 1}):`);
    for (const s of notScored) console.log(`    - ${s} [server]`);
    console.log("    - auth/dpop [client]\n");
  }
  process.exit(0);
}

const url = opt("--url"), out = opt("-o");
await fetch(url, { method: "POST", body: "{}" }).catch((e) => {
  console.error(`fake suite: ${url}: ${e.message}`);
  process.exit(1);
});
let exit = 0;
for (const [scenario, spec] of results) {
  console.log(`\n=== Running scenario: ${scenario} ===`);
  if (spec !== "ok" && required.includes(scenario)) exit = 1;
  if (spec === "none") continue; // started, wrote nothing
  const checks = [{ id: "wire-schema-valid", status: "SUCCESS" }];
  if (spec !== "ok") for (const id of spec.split(",")) checks.push({ id, status: "FAILURE", errorMessage: `${id} broke` });
  const dir = path.join(out, `server-${scenario}-2026-01-02T03-04-05-678Z`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "checks.json"), JSON.stringify(checks));
}
if (process.env.FAKE_EXIT !== undefined) {
  console.error(`fake suite: exiting ${process.env.FAKE_EXIT} as told`);
  process.exit(Number(process.env.FAKE_EXIT));
}
process.exit(exit);
