// mcpbench as the conformance suite's client: the suite runs this with the
// MCP server's URL as the last argument, the scenario's name in
// MCP_CONFORMANCE_SCENARIO and its credentials in MCP_CONFORMANCE_CONTEXT;
// it runs `mcpbench load --mcp URL -n 2` as an OAuth client, by secret
// (client_secret) or by signed JWT assertions (private_key_jwt), or, for
// the DPoP scenarios, by the authorization-code flow (registering itself)
// with DPoP-bound tokens. MCPBENCH_BIN names the mcpbench binary. Secrets
// reach mcpbench by its environment, never its command line.
import { spawnSync } from "node:child_process";

const url = process.argv[process.argv.length - 1];
const ctx = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || "{}");
const env = { ...process.env };
const args = ["load", "--mcp", url, "-n", "2", "--rate", "10", "-c", "1", "--warmup", "0s",
  "--no-save", "--progress", "off", "--format", "json"];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO || "";
if (scenario.startsWith("auth/dpop")) {
  args.push("--grant", "authorization_code", "--dpop");
} else if (ctx.private_key_pem) {
  env.MCPBENCH_CLIENT_KEY = ctx.private_key_pem;
  args.push("--client", ctx.client_id, "--client-key", "env:MCPBENCH_CLIENT_KEY");
} else if (ctx.client_secret) {
  env.MCPBENCH_CLIENT_SECRET = ctx.client_secret;
  args.push("--client", `${ctx.client_id}:env:MCPBENCH_CLIENT_SECRET`);
} else {
  args.push("--grant", "authorization_code"); // no credentials given: register, then the code flow
}
const r = spawnSync(process.env.MCPBENCH_BIN || "mcpbench", args, { env, stdio: "inherit" });
process.exit(r.status ?? 1);
