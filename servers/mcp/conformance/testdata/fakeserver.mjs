// A stand-in MCP server for conformance_test.go: listens on a loopback port,
// prints `listening URL`, starts a long-lived child (its pid goes to the file
// named by $FAKE_CHILD_PID) so the test can see the process group die with it.
import http from "node:http";
import { spawn } from "node:child_process";
import fs from "node:fs";

const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)"], { stdio: "ignore" });
if (process.env.FAKE_CHILD_PID) fs.writeFileSync(process.env.FAKE_CHILD_PID, String(child.pid));
if (process.env.FAKE_IGNORE_TERM) process.on("SIGTERM", () => {});
const srv = http.createServer((req, res) => res.end("{}"));
srv.listen(0, "127.0.0.1", () => console.log(`listening http://127.0.0.1:${srv.address().port}/mcp`));
