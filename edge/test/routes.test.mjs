// The route table: parsing, matching and the upstream URL, table-driven.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { RouteError, matchRoute, parseRoutes, upstreamURL } from "../src/routes.js";

const table = parseRoutes(JSON.stringify([
  { path: "/", user: "fallback", upstream: "https://default.example" },
  { path: "/a/", user: "a", upstream: "https://a.example/base/", strip_prefix: true },
  { path: "/a/admin", user: "admin", upstream: "https://admin.example" },
  { host: "b.example", user: "b", upstream: "http://127.0.0.1:9000", scopes: "read write" },
]));

test("requests match the most specific route", () => {
  const cases = [
    ["https://w.example/a/x?q=1", "a", "https://a.example/base/x?q=1"],
    ["https://w.example/a", "a", "https://a.example/base/"],
    ["https://w.example/ab", "fallback", "https://default.example/ab"],
    ["https://w.example/a/admin/users", "admin", "https://admin.example/a/admin/users"],
    ["https://b.example/a/x", "b", "http://127.0.0.1:9000/a/x"],
    ["https://B.EXAMPLE/", "b", "http://127.0.0.1:9000/"],
    ["https://w.example//evil.example/x", "fallback", "https://default.example//evil.example/x"],
    ["https://w.example/a//evil.example/x", "a", "https://a.example/base//evil.example/x"],
  ];
  for (const [incoming, user, upstream] of cases) {
    const route = matchRoute(table, new URL(incoming));
    assert.equal(route?.user, user, incoming);
    const target = upstreamURL(route, new URL(incoming));
    assert.equal(target?.href, upstream, incoming);
    assert.equal(target.origin, route.origin, incoming);
  }
  assert.deepEqual(matchRoute(table, new URL("https://b.example/")).options, { scopes: ["read", "write"] });
});

test("without a catch-all, unknown hosts and paths match nothing", () => {
  const strict = parseRoutes([{ path: "/a", user: "a", upstream: "https://a.example" }]);
  assert.equal(matchRoute(strict, new URL("https://w.example/b")), undefined);
  assert.equal(matchRoute(strict, new URL("https://w.example/")), undefined);
});

test("a bad route table names the field and the fix", () => {
  const cases = [
    ["not json", "(document)", /JSON array/],
    ["[]", "(document)", /non-empty/],
    ['[{"upstream":"https://x"}]', "[0].user", /preset username/],
    ['[{"user":"a"}]', "[0].upstream", /upstream origin/],
    ['[{"user":"a","upstream":"ftp://x"}]', "[0].upstream", /http or https/],
    ['[{"user":"a","upstream":"https://u:p@x"}]', "[0].upstream", /credentials/],
    ['[{"user":"a","upstream":"https://x/?q"}]', "[0].upstream", /query/],
    ['[{"user":"a","upstream":"https://x","path":"a"}]', "[0].path", /starting with \//],
    ['[{"user":"a","upstream":"https://x","host":"a b"}]', "[0].host", /host name/],
    ['[{"user":"a","upstream":"https://x","strip_prefix":"yes"}]', "[0].strip_prefix", /true or false/],
    ['[{"user":"a","upstream":"https://x","scope":"r"}]', "[0].scope", /not a route field/],
    ['[{"user":"a","upstream":"https://x"},{"user":"b","upstream":"https://y"}]', "[1]", /same host and path/],
  ];
  for (const [text, field, message] of cases) {
    assert.throws(() => parseRoutes(text), (err) => {
      assert.ok(err instanceof RouteError, text);
      assert.equal(err.field, field, text);
      assert.match(err.message, message, text);
      return true;
    });
  }
});

// The vectors cctoken proxy's Go implementation runs too (docs/routes.md).
const vectors = JSON.parse(readFileSync(new URL("../../tests/routes/cases.json", import.meta.url), "utf8"));

test("shared vectors: requests match the route and upstream URL the table says", () => {
  for (const t of vectors.tables) {
    const table = parseRoutes(t.routes);
    for (const c of t.requests) {
      const url = new URL(c.url);
      const route = matchRoute(table, url);
      const at = `${t.name}: ${c.url}`;
      if (c.user === null) {
        assert.equal(route, undefined, at);
        continue;
      }
      assert.equal(route?.user, c.user, at);
      assert.equal(upstreamURL(route, url)?.href, c.upstream, at);
      if (c.options) assert.deepEqual(route.options, c.options, at);
    }
  }
});

test("shared vectors: a bad table names the field and the fix", () => {
  for (const c of vectors.errors) {
    const input = c.text ?? JSON.stringify(c.routes);
    assert.throws(() => parseRoutes(input), (err) => {
      assert.ok(err instanceof RouteError, input);
      assert.equal(err.field, c.field, input);
      assert.ok(err.message.includes(c.message), `${input}: ${err.message}`);
      assert.ok(err.message.startsWith(`ROUTES: ${c.field}: `), input);
      return true;
    });
  }
});
