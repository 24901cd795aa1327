# workerd configuration for cctoken's signing worker with shared tokens:
# config.capnp plus a TokenOwner Durable Object namespace, so every isolate
# (and every other worker service that binds the namespace with
# (serviceName = "signer", className = "TokenOwner")) shares one token
# request per user per lifetime. Ready to run like config.capnp:
#
#   CCTOKEN_PRESET="$(cat preset.yaml)" CCTOKEN_ROUTES="$(cat routes.json)" \
#   CCTOKEN_INBOUND_KEY=… node_modules/.bin/workerd serve config-shared.capnp
#
# (./edge/run.sh --shared runs the demo with it). The worker
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
    (name = "owners", disk = (path = ".owners", writable = true)),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "signer"),
  ],
);

const signer :Workerd.Worker = (
  # One TokenOwner Durable Object per preset user fetches and refreshes for
  # every isolate of every worker bound to this namespace; its storage (the
  # user and alarm times, never a token) lives in edge/.owners/.
  durableObjectNamespaces = [(className = "TokenOwner", uniqueKey = "cctoken-token-owner")],
  durableObjectStorage = (localDisk = "owners"),
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
    (name = "TOKENS", durableObjectNamespace = "TokenOwner"),
  ],
  globalOutbound = "outbound",
);
