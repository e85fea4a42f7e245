// Preloaded into a Node server (node --require ./loopback.cjs): every
// listen without a host binds 127.0.0.1, not every interface, and once the
// server listens its first line on stdout is "listening URL", the contract
// of `mcpbench serve`, with INTEROP_PATH (default /mcp) as the URL's path.
// Start the server with PORT=0 for a free port. What the server itself
// logs with console.log goes to stderr, so that the listening line is the
// first on stdout.
const net = require("net");
console.log = (...a) => console.error(...a);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const cb = args.find((a) => typeof a === "function");
  let opts = args[0];
  if (typeof opts === "number" || (typeof opts === "string" && /^\d+$/.test(opts))) {
    opts = { port: Number(opts) };
  }
  if (opts && typeof opts === "object" && !opts.host && !opts.path) {
    opts = { ...opts, host: "127.0.0.1" };
    this.once("listening", () => {
      const { port } = this.address();
      process.stdout.write(`listening http://127.0.0.1:${port}${process.env.INTEROP_PATH || "/mcp"}\n`);
    });
    return cb ? listen.call(this, opts, cb) : listen.call(this, opts);
  }
  return listen.apply(this, args);
};
