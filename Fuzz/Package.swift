// swift-tools-version: 6.2
import PackageDescription

// Sigil's libFuzzer harness, a package of its own (like Benchmarks/) so the library never depends on
// it and its sanitizer build lives in its own scratch path. Build and run it with scripts/fuzz:
//   swift build --package-path Fuzz --scratch-path Fuzz/.build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   SIGIL_FUZZ_TARGET=template Fuzz/.build-fuzz/debug/SigilFuzz FILE   (one input; see README.md)
// The harness uses `@testable import` to reach internal parsers (debug builds enable testing).
let package = Package(
    name: "sigil-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sigil", path: ".."),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // `SigilFuzz_main`, which SwiftPM's link of an executable asks for: libFuzzer's driver.
        .target(name: "SigilFuzzEntry"),
        // The libFuzzer entry point (LLVMFuzzerTestOneInput); SIGIL_FUZZ_TARGET picks the parser
        // (see SigilFuzz.swift).
        .executableTarget(
            name: "SigilFuzz",
            dependencies: [
                "SigilFuzzEntry",
                // The CLI's option parsing, for the `-H` target.
                .product(name: "SigilCLI", package: "sigil"),
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilConfig", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "SigilTokens", package: "sigil"),
                .product(name: "SigilSAML", package: "sigil"),
                .product(name: "SigilOperations", package: "sigil"),
                // The service's reading of a signed request's URL for its use record.
                .product(name: "SigilService", package: "sigil"),
                // The vault location's postgres:// URL.
                .product(name: "SigilStore", package: "sigil"),
                // Its own URL handling is the oracle of the callout-url and endpoint-url targets.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
