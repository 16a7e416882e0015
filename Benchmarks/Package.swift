// swift-tools-version: 6.2
import PackageDescription

// Sigil's benchmarks, a package of their own so the library never depends on the harness.
// Run them with: scripts/benchmarks (see Benchmarks/README.md).
let package = Package(
    name: "sigil-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sigil", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // The workloads, shared by the benchmarks and the instruction-count comparison.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Signs the five-request SigV4 workload N times; scripts/benchmarks runs it under callgrind
        // beside botocore and Go's signer.
        .executableTarget(
            name: "sigv4-workload",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "SigilStore", package: "sigil"),
            ],
            path: "Sources/SigV4Workload"
        ),
        // Decorates Basic, custom-header and JWT requests through the engine (in memory, or through a
        // real sealed vault), for profiling the engine's own cost.
        .executableTarget(
            name: "engine-workload",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "SigilStore", package: "sigil"),
            ],
            path: "Sources/EngineWorkload"
        ),
        // Signs HMAC JWTs (or only their raw HMAC) N times, for counting instructions with callgrind.
        .executableTarget(
            name: "jwt-workload",
            dependencies: [
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/JWTWorkload"
        ),
        .executableTarget(
            name: "SigningBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Benchmarks/SigningBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Decorates with a cached OAuth 2.0 token N times, for profiling the engine's fixed cost.
        .executableTarget(
            name: "token-workload",
            dependencies: [
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "SigilStore", package: "sigil"),
                .product(name: "SigilTokens", package: "sigil"),
            ],
            path: "Sources/TokenWorkload"
        ),
        .executableTarget(
            name: "TokenBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SigilCore", package: "sigil"),
                .product(name: "SigilModel", package: "sigil"),
                .product(name: "SigilSigning", package: "sigil"),
                .product(name: "SigilStore", package: "sigil"),
                .product(name: "SigilTokens", package: "sigil"),
            ],
            path: "Benchmarks/TokenBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
