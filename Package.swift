// swift-tools-version: 6.2
import PackageDescription

/// Strict settings for every target of ours: Swift 6 language mode, explicit `any`, imports
/// that must be named where used, internal-by-default imports, and warnings treated as errors.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "sigil",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SigilCore", targets: ["SigilCore"]),
        .library(name: "SigilModel", targets: ["SigilModel"]),
        .library(name: "SigilStore", targets: ["SigilStore"]),
        .library(name: "SigilConfig", targets: ["SigilConfig"]),
        .library(name: "SigilSigning", targets: ["SigilSigning"]),
        .library(name: "SigilTokens", targets: ["SigilTokens"]),
        .library(name: "SigilHTTP", targets: ["SigilHTTP"]),
        .library(name: "SigilOperations", targets: ["SigilOperations"]),
        .library(name: "SigilSAML", targets: ["SigilSAML"]),
        .library(name: "SigilService", targets: ["SigilService"]),
        // The commands, for the fuzzing harness (Fuzz/), which parses `-H` as `sigil` does.
        .library(name: "SigilCLI", targets: ["SigilCLI"]),
        .executable(name: "sigil", targets: ["sigil"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The service. No package traits: swift-configuration support is not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The pages' templates (HTML-escaped by default), compiled into the binary.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The vault on PostgreSQL (replicas sharing one database).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libsodium, from Debian's libsodium-dev.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // OpenLDAP's client library, from Debian's libldap-dev: the service's directory authenticator.
        .systemLibrary(
            name: "CLDAP",
            pkgConfig: "ldap",
            providers: [.apt(["libldap-dev"])]
        ),
        // The SAML response's XML signature, verified by libxmlsec1 (Debian's libxmlsec1-dev) behind a
        // plain C interface; its defines are pkg-config's for xmlsec1-openssl (SwiftPM drops them).
        .target(
            name: "CXMLSec",
            cSettings: [
                .define("XMLSEC_NO_SIZE_T"), .define("XMLSEC_CRYPTO_OPENSSL", to: "1"),
                .define("XMLSEC_NO_GOST", to: "1"), .define("XMLSEC_NO_GOST2012", to: "1"),
                .define("XMLSEC_NO_CRYPTO_DYNAMIC_LOADING", to: "1"), .define("XMLSEC_OPENSSL3_ENGINES", to: "1"),
                .define("__XMLSEC_FUNCTION__", to: "__func__"),
                .unsafeFlags(["-I/usr/include/xmlsec1", "-I/usr/include/libxml2"]),
            ],
            linkerSettings: [
                .linkedLibrary("xmlsec1-openssl"), .linkedLibrary("xmlsec1"), .linkedLibrary("ssl"),
                .linkedLibrary("crypto"), .linkedLibrary("xml2"),
            ]
        ),
        // A SAML 2.0 Response's signature (libxmlsec1, through CXMLSec) and the assertion it covers.
        .target(
            name: "SigilSAML",
            dependencies: ["CXMLSec"],
            swiftSettings: strictSettings
        ),
        // Secret bytes, sealing, the keyring and the shared error type.
        .target(
            name: "SigilCore",
            dependencies: ["CSodium", .product(name: "SwiftASN1", package: "swift-asn1")],
            swiftSettings: strictSettings
        ),
        // External and named credentials, principals, grants and their rules. No I/O.
        .target(
            name: "SigilModel",
            dependencies: [
                "SigilCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // The sealed SQLite store: migrations from schema/, secrets, keys, audit chain.
        .target(
            name: "SigilStore",
            dependencies: [
                "SigilCore", "SigilModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The configuration file (YAML or JSON): parsing, secret references, export.
        .target(
            name: "SigilConfig",
            dependencies: [
                "SigilCore", "SigilModel",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // The signing engine: callouts, principal choice, merge fields, one folder per protocol. No sockets.
        .target(
            name: "SigilSigning",
            dependencies: [
                "SigilCore", "SigilModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // Credentials Sigil obtains from a provider (AWS STS AssumeRole, OAuth 2.0 tokens): the
        // sealed cache, one refresh at a time (in process and across processes), the calls to
        // token endpoints.
        .target(
            name: "SigilTokens",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilSigning",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        // The executor: sends decorated requests; a refused credential is replaced once and the
        // request retried once.
        .target(
            name: "SigilHTTP",
            dependencies: [
                "SigilCore", "SigilModel", "SigilSigning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // What the CLI and the service both do to a vault (apply, set a secret), with the checks they
        // share: each rule is written once.
        .target(
            name: "SigilOperations",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilConfig", "SigilSigning", "SigilTokens", "SigilHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The HTTP service (`sigil serve`): the inbound authenticator chain, roles, the API routes,
        // the browser pages and per-use audit. As thin as the CLI: every route calls the modules above.
        .target(
            name: "SigilService",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilConfig", "SigilSigning", "SigilTokens", "SigilHTTP",
                "SigilOperations", "SigilSAML", "CLDAP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The templates are compiled in (Pages/EmbeddedTemplates.swift, by scripts/embed).
            exclude: ["Pages/Templates"],
            swiftSettings: strictSettings
        ),
        // The commands. Thin: every step is a call into the modules above.
        .target(
            name: "SigilCLI",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilConfig", "SigilSigning", "SigilTokens", "SigilHTTP",
                "SigilOperations", "SigilService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "sigil",
            dependencies: [
                "SigilCLI", "SigilCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // What tests of several targets share: the stores a vault test runs on.
        .target(
            name: "SigilTestSupport",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/SigilTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilCoreTests",
            dependencies: ["SigilCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilModelTests",
            dependencies: ["SigilCore", "SigilModel"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilStoreTests",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilSigningTests",
            dependencies: [
                "SigilCore", "SigilModel", "SigilSigning", .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Vectors"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilTokensTests",
            dependencies: ["SigilCore", "SigilModel", "SigilStore", "SigilSigning", "SigilTokens", "SigilTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilConfigTests",
            dependencies: ["SigilCore", "SigilModel", "SigilConfig"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilServiceTests",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilConfig", "SigilService", "SigilTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SigilCLITests",
            dependencies: [
                "SigilCore", "SigilModel", "SigilStore", "SigilSigning", "SigilTokens", "SigilHTTP", "SigilCLI",
                "SigilOperations", "sigil", "SigilTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
