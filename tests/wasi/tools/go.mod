// Module tools pins the WASI runtime the tests/wasi tests run the standalone
// command under: stealthrocket/wasi-go's wasirun, which implements WasmEdge's
// socket extensions. Build it with
//
//	go build -o DIR/wasirun github.com/stealthrocket/wasi-go/cmd/wasirun
//
// in this directory (the tests do that into their cache directory).
module github.com/cctoken/cctoken/tests/wasi/tools

go 1.26.0

tool github.com/stealthrocket/wasi-go/cmd/wasirun

require (
	github.com/stealthrocket/wasi-go v0.8.0 // indirect
	github.com/stealthrocket/wazergo v0.19.1 // indirect
	github.com/tetratelabs/wazero v1.2.0 // indirect
	golang.org/x/sys v0.8.0 // indirect
)
