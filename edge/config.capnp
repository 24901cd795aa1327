# workerd configuration for cctoken's signing worker, ready to run:
#
#   CCTOKEN_PRESET="$(cat preset.yaml)" CCTOKEN_ROUTES="$(cat routes.json)" \
#   CCTOKEN_INBOUND_KEY=… node_modules/.bin/workerd serve config.capnp
#
# or ./edge/run.sh, which sets everything up for a local demo. The worker
# listens on 127.0.0.1:8787 (override with --socket-addr http=HOST:PORT).
# Its bindings come from the environment; see src/worker.js.

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "signer", worker = .signer),
    # Token endpoints and upstreams on this machine or a private network
    # are reachable only with "local" and "private"; a deployment that
    # talks to public hosts alone can drop both.
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "signer"),
  ],
);

const signer :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "src/worker.js"),
    (name = "routes.js", esModule = embed "src/routes.js"),
    (name = "token-owner.js", esModule = embed "src/token-owner.js"),
    (name = "cctoken", esModule = embed "../js/dist/cctoken.bundle.js"),
    (name = "cctoken/cctoken.wasm", wasm = embed "../host/embed/cctoken.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "PRESET", fromEnvironment = "CCTOKEN_PRESET"),
    (name = "ROUTES", fromEnvironment = "CCTOKEN_ROUTES"),
    (name = "INBOUND_KEY", fromEnvironment = "CCTOKEN_INBOUND_KEY"),
    (name = "SIGNING", fromEnvironment = "CCTOKEN_SIGNING"),
  ],
  globalOutbound = "outbound",
);
