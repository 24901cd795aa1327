// Type declarations for the "cctoken/cctoken.wasm" subpath: the cctoken
// reactor as a compiled module, the way workerd, Cloudflare Workers
// (wrangler's CompiledWasm rule) and other edge runtimes import WebAssembly.

/** The cctoken module; pass it as createClient({ preset, wasm }). */
declare const wasm: WebAssembly.Module;
export default wasm;
