// A local OAuth 2.0 token endpoint for the JavaScript benchmarks, run as a
// process of its own so that serving does not share the benchmark's event
// loop. node:http on 127.0.0.1, a random port:
//
//   POST /token  answers every client-credentials request with the same
//                64-character opaque token and expires_in 3600 (the body
//                tests/bench/bench_test.go serves)
//   GET  /hits   the number of token requests so far, as text
//
// Prints its base URL on the first line of stdout and exits when stdin
// closes (so it dies with the benchmark that started it).
import * as http from "node:http";

const accessToken = "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH";
const body = Buffer.from(JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: 3600 }));
let hits = 0;

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/hits") {
    res.writeHead(200, { "Content-Type": "text/plain" }).end(String(hits));
    return;
  }
  // Read the request to its end before answering, as any server does.
  req.resume();
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/token") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not a token request");
      return;
    }
    hits++;
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
      "Content-Length": body.length,
    }).end(body);
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
