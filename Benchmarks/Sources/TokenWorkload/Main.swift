import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTokens

/// Decorates a request N times with an OAuth 2.0 token the broker holds (a real vault), for
/// profiling the engine's fixed per-request cost under callgrind.
@main
struct TokenWorkload {
    // A synchronous main that waits on a semaphore: valgrind cannot run dispatch's async main.
    static func main() throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        Task.detached {
            do { try await run() } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }

    static func run() async throws {
        let rounds = Int(CommandLine.arguments.dropFirst().first ?? "1000") ?? 1000
        let directory = NSTemporaryDirectory() + "sigil-token-workload-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let vault = try Vault.create(at: directory + "/vault.db", key: .key(MasterKey.generate()), actor: "workload")
        let principal = PrincipalRef(externalCredential: "Api", principal: "service")
        try vault.apply(
            ApplyRequest(
                catalog: Catalog(
                    externalCredentials: [
                        ExternalCredential(
                            name: "Api", authProtocol: .oauth2,
                            parameters: ["tokenUrl": "https://login.example.com/oauth/token", "clientId": "svc"],
                            principals: [Principal(name: "service", type: .named, sequence: 1)]
                        )
                    ],
                    namedCredentials: [
                        NamedCredential(name: "Api", url: "https://api.example.com/v1", externalCredential: "Api")
                    ]
                ),
                secrets: [
                    SecretTarget(owner: .principal(principal), field: "clientSecret"): SecretBytes(
                        utf8: "client-secret")
                ]
            ))
        let broker = CredentialBroker(vault: vault)
        let engine = SigningEngine(source: vault, issuer: broker)
        let now = Int64(Date().timeIntervalSince1970)
        try await broker.store(
            authorized: IssuedCredential(
                kind: .oauth2, fields: ["accessToken": SecretBytes(utf8: "token-0123456789")], obtainedAt: now,
                expiresAt: now + 86_400),
            for: try engine.loginRequest(externalCredential: "Api"))
        var total = 0
        for _ in 0..<rounds {
            total &+= try await engine.decorate(OutboundRequest(url: "callout:Api/items")).headers.count
        }
        try await broker.shutdown()
        print(total)
    }
}
