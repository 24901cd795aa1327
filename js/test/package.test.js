// The npm package as it is published: its version is the project's, `npm
// pack` ships the committed module byte for byte, the packed code finds that
// module by itself (compiled once per process), workers are told to import
// it, and the types compile with tsc --strict.
//
//   node --test js/test/package.test.js

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

import { ABI_VERSION, VERSION } from "../cctoken.js";
import { closeAll, listen, preset, root, sendToken, wasmPath } from "../test-support/helpers.js";

const jsDir = path.join(root, "js");
const pkg = JSON.parse(readFileSync(path.join(jsDir, "package.json"), "utf8"));

after(closeAll);

/** The tsc of js/package-lock.json, strict, on a file that imports "cctoken" as an application does. */
export function typecheck(file, cwd) {
  const tsc = path.join(jsDir, "node_modules", "typescript", "bin", "tsc");
  return execFileSync(process.execPath, [tsc, "--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext",
    "--target", "es2022", "--lib", "es2022,dom", file], { cwd, encoding: "utf8" });
}

describe("versions", () => {
  test("VERSION, package.json and internal/version agree", () => {
    const goSource = readFileSync(path.join(root, "internal", "version", "version.go"), "utf8");
    const goVersion = /const Version = "([^"]+)"/.exec(goSource)?.[1];
    assert.ok(goVersion, "internal/version/version.go declares const Version");
    const cases = [["js/package.json version", pkg.version], ["VERSION export", VERSION]];
    for (const [name, got] of cases) assert.equal(got, goVersion, `${name} must equal internal/version (${goVersion})`);
    assert.equal(ABI_VERSION, 1);
  });

  test("package.json carries the license, the module subpath, types and engines", () => {
    assert.equal(pkg.license, "Apache-2.0");
    assert.deepEqual(pkg.exports["./cctoken.wasm"], { types: "./cctoken.wasm.d.ts", default: "./cctoken.wasm" });
    assert.equal(pkg.exports["."].types, "./cctoken.d.ts");
    assert.equal(pkg.types, "./cctoken.d.ts");
    assert.match(pkg.engines.node, /^>=\d+/);
  });
});

describe("npm pack", () => {
  let tmp, unpacked, packed;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "cctoken-pack-"));
    // prepack copies host/embed/cctoken.wasm into js/ first.
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", tmp, "--no-update-notifier", "--loglevel=error"],
      { cwd: jsDir, encoding: "utf8" });
    packed = JSON.parse(out.slice(out.indexOf("[")))[0];
    execFileSync("tar", ["-xzf", path.join(tmp, packed.filename), "-C", tmp]);
    unpacked = path.join(tmp, "package");
    // The packed code's one dependency, as an install would provide it.
    symlinkSync(path.join(jsDir, "node_modules"), path.join(unpacked, "node_modules"), "dir");
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  test("ships the code, the types, the module and the license, nothing else", () => {
    const files = packed.files.map((f) => f.path).sort();
    assert.deepEqual(files, ["LICENSE", "README.md", "cctoken.d.ts", "cctoken.js", "cctoken.wasm", "cctoken.wasm.d.ts", "package.json"]);
  });

  test("the packed cctoken.wasm is host/embed/cctoken.wasm byte for byte", () => {
    const shipped = readFileSync(path.join(unpacked, "cctoken.wasm"));
    const committed = readFileSync(wasmPath);
    assert.equal(shipped.length, committed.length);
    assert.ok(shipped.equals(committed), "the packed module differs from host/embed/cctoken.wasm");
  });

  test("without the wasm option the packed code loads its own module, compiled once", async () => {
    const mod = await import(pathToFileURL(path.join(unpacked, "cctoken.js")).href);
    const srv = await listen((_req, res) => sendToken(res, "packed-token"));
    const size = readFileSync(wasmPath).length;
    const compile = WebAssembly.compile;
    let compiles = 0; // of cctoken.wasm (Node's fetch compiles its own HTTP parser too)
    WebAssembly.compile = function (...args) {
      if (args[0]?.byteLength === size) compiles += 1;
      return compile.apply(this, args);
    };
    try {
      const doc = preset(`${srv.url}/token`, [{ username: "svc", client_id: "c", client_secret: "s" }]);
      assert.deepEqual(await mod.lint(doc), []);
      const clients = await Promise.all([mod.createClient({ preset: doc }), mod.createClient({ preset: doc })]);
      assert.equal((await clients[1].token("svc")).accessToken, "packed-token");
      for (const c of clients) c.close();
      assert.equal(compiles, 1, "the packaged module is compiled once per process");
      // A module passed as an option still wins over the packaged one.
      const bytes = readFileSync(wasmPath);
      const own = await mod.createClient({ preset: doc, wasm: bytes });
      own.close();
      assert.equal(compiles, 2);
      assert.equal(mod.VERSION, VERSION);
    } finally {
      WebAssembly.compile = compile;
    }
  });

  test("a package whose module is missing says where it looked and what to do", async () => {
    const broken = path.join(tmp, "broken");
    cpSync(unpacked, broken, { recursive: true, verbatimSymlinks: true });
    rmSync(path.join(broken, "cctoken.wasm"));
    const mod = await import(pathToFileURL(path.join(broken, "cctoken.js")).href);
    await assert.rejects(mod.createClient({ preset: "{}" }), (err) => {
      assert.equal(err.code, "bad_module");
      assert.ok(err.message.includes(pathToFileURL(path.join(broken, "cctoken.wasm")).href), err.message);
      assert.match(err.message, /reinstall the package, or pass the wasm option/);
      return true;
    });
  });

  test("in a worker without the wasm option the error says to import the module subpath", async () => {
    const mod = await import(pathToFileURL(path.join(unpacked, "cctoken.js")).href);
    const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
    Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Cloudflare-Workers" }, configurable: true });
    try {
      await assert.rejects(mod.createClient({ preset: "{}" }), (err) => {
        assert.equal(err.code, "bad_module");
        assert.match(err.message, /import wasm from "cctoken\/cctoken\.wasm"/);
        return true;
      });
    } finally {
      if (saved) Object.defineProperty(globalThis, "navigator", saved);
      else delete globalThis.navigator;
    }
  });

  test("the types compile with tsc --strict against the packed package", () => {
    // The unpacked folder resolves "cctoken" by its own name (package self-reference).
    const file = path.join(unpacked, "consumer.ts");
    execFileSync("cp", [path.join(jsDir, "test-support", "consumer.ts"), file]);
    typecheck(file, unpacked);
  });
});
