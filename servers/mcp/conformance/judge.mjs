// Judges one conformance run against an expected-failures file; run by
// scripts/conformance.sh (any Node >= 18). Usage:
//
//   node judge.mjs EXPECTED_FILE [WORK_DIR SUITE_EXIT]
//
// Without WORK_DIR it only checks EXPECTED_FILE; SUITE_EXIT is the suite's
// exit status. WORK_DIR holds list.txt (the
// suite's `list --requirements REV`: the scenarios the run must cover),
// suite.log (the suite's output) and
// results/server-SCENARIO-TIMESTAMP/checks.json.
//
// An entry is `SCENARIO # reason` (the scenario may fail, any of its checks)
// or `SCENARIO/CHECK-ID # reason` (that check may fail; the scenario's other
// checks must pass). A scenario fails when any check has status FAILURE; one
// the suite started without writing checks.json fails as check "no-results".
// Every server scenario of the suite's list, required or run-but-not-scored,
// must have run, listed in EXPECTED_FILE or not. The suite exits 1 when a
// required scenario failed, else 0: an exit of 1 with a failing required
// scenario is explained (whether that failure is listed is judged as above);
// any other non-zero exit (1 without one, a crash, a signal, a usage error)
// fails the run, with the tail of suite.log.
//
// Prints one line per problem, then `COUNTS total passed xfail failed stale
// missing unrun badexit`: scenarios passed (no entry), scenarios whose every failure
// is listed, scenarios with an unlisted failure, entries that passed, entries
// that never ran (and are not in the suite's list), scenarios of the suite's
// list that did not run, 1 for an unexplained exit. Writes WORK_DIR/draft.expected, every failing check
// as an entry. Exit status: 0 judged (whatever the verdict), 2 bad input.
import fs from "node:fs";
import path from "node:path";

const [expectedFile, work, exitArg] = process.argv.slice(2);
if (!expectedFile || (work !== undefined && !/^[0-9]+$/.test(exitArg ?? ""))) {
  console.error("usage: node judge.mjs EXPECTED_FILE [WORK_DIR SUITE_EXIT]");
  process.exit(2);
}

function fail(msg) {
  console.error(`conformance: ${msg}`);
  process.exit(2);
}

// --- the expected-failures file ---------------------------------------------
const whole = new Map(); // scenario -> reason
const checks = new Map(); // scenario -> Map(checkId -> reason)
let text;
try {
  text = fs.readFileSync(expectedFile, "utf8");
} catch (e) {
  fail(`cannot read ${expectedFile}: ${e.message}`);
}
text.split("\n").forEach((raw, i) => {
  const line = raw.trim();
  if (line === "" || line.startsWith("#")) return;
  const where = `${expectedFile}:${i + 1}`;
  const hash = line.indexOf("#");
  const entry = (hash < 0 ? line : line.slice(0, hash)).trim();
  const reason = hash < 0 ? "" : line.slice(hash + 1).trim();
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._:-]+)?$/.test(entry)) fail(`${where}: '${entry}' is not SCENARIO or SCENARIO/CHECK-ID`);
  if (!reason) fail(`${where}: '${entry}' has no '# reason'`);
  const [scenario, check] = entry.split("/");
  if (whole.has(scenario) || (check === undefined && checks.has(scenario)) || checks.get(scenario)?.has(check))
    fail(`${where}: '${entry}' is already covered by an earlier line`);
  if (check === undefined) whole.set(scenario, reason);
  else {
    if (!checks.has(scenario)) checks.set(scenario, new Map());
    checks.get(scenario).set(check, reason);
  }
});
if (!work) process.exit(0);

// --- what the suite means to run --------------------------------------------
// `list --requirements REV` prints "Server scenarios (test against a server):"
// with "  - NAME" lines, and under "Run and reported, but never scored:"
// "    - NAME [server]" lines (client scenarios carry [client]).
const listFile = path.join(work, "list.txt");
let listText;
try {
  listText = fs.readFileSync(listFile, "utf8");
} catch (e) {
  fail(`cannot read the suite's scenario list: ${e.message}`);
}
const required = [], notScored = [];
let section = "";
for (const line of listText.split("\n")) {
  if (/^\S/.test(line)) section = line.trim();
  let m;
  if (section === "Server scenarios (test against a server):" && (m = /^ {2}- (\S+)$/.exec(line))) required.push(m[1]);
  else if (section === "Run and reported, but never scored:" && (m = /^ {4}- (\S+) \[server\]$/.exec(line))) notScored.push(m[1]);
}
if (!/^Required for \S+ \(/m.test(listText) || required.length === 0)
  fail(`${listFile}: no "Required for" line or no server scenario: not the suite's \`list --requirements\` output`);
const listed = new Set([...required, ...notScored]);

// --- what ran -----------------------------------------------------------------
const log = fs.existsSync(path.join(work, "suite.log")) ? fs.readFileSync(path.join(work, "suite.log"), "utf8") : "";
const started = [...log.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((m) => m[1]);
const results = new Map();
const dir = path.join(work, "results");
for (const d of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
  const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(d);
  const f = path.join(dir, d, "checks.json");
  if (!m || !fs.existsSync(f)) continue;
  try {
    results.set(m[1], JSON.parse(fs.readFileSync(f, "utf8")));
  } catch (e) {
    fail(`${f}: ${e.message}`);
  }
}

const short = (c) => `${c.id}: ${String(c.errorMessage || c.description || "").replace(/\s+/g, " ").slice(0, 200)}`;
// draft.expected: every failing check as an entry, its message as the reason,
// a start for a new expected-failures file (write real reasons before use).
const draft = [];
let total = 0, passed = 0, xfail = 0, failed = 0, stale = 0, missing = 0, unrun = 0;
const ran = new Set([...started, ...results.keys()]);
const failingRequired = [];
for (const s of ran) {
  total++;
  const cs = results.get(s) ?? [{ id: "no-results", status: "FAILURE", errorMessage: "the suite wrote no checks.json" }];
  const bad = cs.filter((c) => c.status === "FAILURE");
  if (bad.length > 0 && required.includes(s)) failingRequired.push(s);
  for (const id of new Set(bad.map((c) => c.id))) draft.push(`${s}/${id}  # TODO: ${short(bad.find((c) => c.id === id)).slice(id.length + 2)}`);
  if (whole.has(s)) {
    if (bad.length === 0) {
      stale++;
      console.log(`  UNEXPECTEDLY PASSED ${s} (listed: ${whole.get(s)}) -- remove it from ${expectedFile}`);
    } else xfail++;
    continue;
  }
  const listed = checks.get(s) ?? new Map();
  const unlisted = bad.filter((c) => !listed.has(c.id));
  for (const [id, reason] of listed) {
    const mine = cs.filter((c) => c.id === id);
    if (mine.length === 0) {
      missing++;
      console.log(`  NOT RUN ${s}/${id} is listed in ${expectedFile} but the scenario has no such check`);
    } else if (!mine.some((c) => c.status === "FAILURE")) {
      stale++;
      console.log(`  UNEXPECTEDLY PASSED ${s}/${id} (listed: ${reason}) -- remove it from ${expectedFile}`);
    }
  }
  if (unlisted.length > 0) {
    failed++;
    console.log(`  UNEXPECTED FAILURE ${s}: ${unlisted.length} failed check(s): ${unlisted.slice(0, 3).map(short).join("; ")}`);
  } else if (bad.length > 0) xfail++;
  else passed++;
}
for (const s of listed) {
  if (!ran.has(s)) {
    unrun++;
    const entry = whole.has(s) || checks.has(s) ? ` (listed in ${expectedFile}, which does not excuse it)` : "";
    console.log(`  NOT RUN ${s}: in the suite's list (${required.includes(s) ? "required" : "run, not scored"}) but the suite did not run it${entry}`);
  }
}
for (const s of [...whole.keys(), ...checks.keys()]) {
  if (!ran.has(s) && !listed.has(s)) {
    missing++;
    console.log(`  NOT RUN ${s} is listed in ${expectedFile} but is no scenario of the suite's list, and did not run`);
  }
}
const suiteExit = Number(exitArg);
const badexit = suiteExit === 0 || (suiteExit === 1 && failingRequired.length > 0) ? 0 : 1;
if (badexit) {
  const why = suiteExit === 1
    ? "with no required scenario failing, its one reason to exit 1: a crash or a usage error"
    : "(it exits 1 when a required scenario fails, else 0): a crash, a signal or a usage error";
  console.log(`  SUITE EXITED ${suiteExit} ${why}. The last lines of its output:`);
  for (const line of log.trimEnd().split("\n").slice(-15)) console.log(`    | ${line}`);
}
fs.writeFileSync(path.join(work, "draft.expected"), draft.map((l) => l + "\n").join(""));
console.log(`COUNTS ${total} ${passed} ${xfail} ${failed} ${stale} ${missing} ${unrun} ${badexit}`);
