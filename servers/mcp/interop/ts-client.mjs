// The TypeScript SDK's own client against an MCP server: connect over
// Streamable HTTP (with OAuth client credentials when given ID:SECRET),
// list the tools, call echo, and print what came back as one JSON line.
//
//   node ts-client.mjs URL [ID:SECRET ISSUER]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const [url, cred, issuer] = process.argv.slice(2);
let authProvider;
if (cred) {
  const i = cred.indexOf(":");
  authProvider = new ClientCredentialsProvider({ clientId: cred.slice(0, i), clientSecret: cred.slice(i + 1), expectedIssuer: issuer });
}
const client = new Client({ name: "mcpbench-interop", version: "1" });
const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
await client.connect(transport);
const tools = await client.listTools();
const res = await client.callTool({ name: "echo", arguments: { message: "hi" } });
console.log(JSON.stringify({
  server: client.getServerVersion(),
  session: transport.sessionId ?? null,
  tools: tools.tools.map((t) => t.name),
  echo: res.content?.[0]?.text ?? null,
  isError: res.isError ?? false,
}));
await client.close();
