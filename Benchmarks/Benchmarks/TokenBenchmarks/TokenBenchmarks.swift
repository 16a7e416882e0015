import Benchmark
import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTokens

// Decorating with an OAuth 2.0 token the broker already holds (issue 4's target: under 2 µs per
// request in process): a real vault (SQLite, sealed secrets) and the real broker, with a token
// stored as `sigil auth login` would store it, so the provider is never called.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(3))

    let directory = NSTemporaryDirectory() + "sigil-bench-\(UInt64.random(in: 0...UInt64.max))"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let vault = try! Vault.create(
        at: directory + "/vault.db", key: .key(MasterKey.generate()), kdfParameters: .minimumForTests(), actor: "bench")
    let principal = PrincipalRef(externalCredential: "Api", principal: "service")
    try! vault.apply(
        ApplyRequest(
            catalog: Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "Api", authProtocol: .oauth2,
                        parameters: [
                            "tokenUrl": "https://login.example.com/oauth/token", "clientId": "svc", "scope": "read",
                        ],
                        principals: [
                            Principal(name: "service", type: .named, sequence: 1),
                            Principal(name: "mine", type: .perUser, sequence: 2),
                        ]
                    )
                ],
                namedCredentials: [
                    NamedCredential(name: "Api", url: "https://api.example.com/v1", externalCredential: "Api")
                ],
                users: [User(name: "alice@example.com")],
                grants: [
                    Grant(
                        principal: PrincipalRef(externalCredential: "Api", principal: "mine"),
                        subjects: [.user("alice@example.com")])
                ]
            ),
            secrets: [
                SecretTarget(owner: .principal(principal), field: "clientSecret"): SecretBytes(utf8: "client-secret")
            ]
        ))
    let broker = CredentialBroker(vault: vault)
    let engine = SigningEngine(source: vault, issuer: broker)
    let token = IssuedCredential(
        kind: .oauth2,
        fields: [
            "accessToken": SecretBytes(utf8: "00Dx0000000BV7z!AR8AQNhMmQeDIKR0.hZagSTaEPCkmoXeYnkaxQnqWlG6Sk9U3i3IFjEH")
        ],
        obtainedAt: Int64(Date().timeIntervalSince1970), expiresAt: Int64(Date().timeIntervalSince1970) + 86_400
    )

    // A thousand requests per sample: each sample starts a new task on a thread just woken, whose
    // cold caches would otherwise be most of what a one-request sample measures.
    Benchmark(
        "OAuth 2.0 decorate, cached token (vault + broker)",
        configuration: .init(
            scalingFactor: .kilo,
            setup: {
                try await broker.store(authorized: token, for: try engine.loginRequest(externalCredential: "Api"))
                _ = try await engine.decorate(OutboundRequest(url: "callout:Api/items"))
            })
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await engine.decorate(OutboundRequest(url: "callout:Api/items")))
        }
    }

    // The same for a user's own token (a per-user principal the user authorized).
    Benchmark(
        "OAuth 2.0 decorate, cached token, per-user principal",
        configuration: .init(
            scalingFactor: .kilo,
            setup: {
                try await broker.store(
                    authorized: token, for: try engine.loginRequest(externalCredential: "Api", as: "alice@example.com"))
                _ = try await engine.decorate(OutboundRequest(url: "callout:Api/items"), as: "alice@example.com")
            })
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await engine.decorate(OutboundRequest(url: "callout:Api/items"), as: "alice@example.com"))
        }
    }
}
