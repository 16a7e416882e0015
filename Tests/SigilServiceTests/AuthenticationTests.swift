import Foundation
import SigilCore
import SigilStore
import Testing

@Suite("The authenticator chain: Sigil Basic, API keys, failures that slow down")
struct AuthenticationTests {
    static var sign: [String: Any] { ["method": "GET", "url": "callout:Billing/invoices"] }

    @Test("a password and an API key authenticate; a wrong one, an unknown user, a malformed header do not")
    func basicAndKeys() async throws {
        try await ServiceHarness.with { service in
            #expect(try await service.send("POST", "/v1/sign", as: .basic("alice"), json: Self.sign).status == 200)
            #expect(try await service.send("POST", "/v1/sign", as: .key("app"), json: Self.sign).status == 200)
            for caller: ServiceHarness.As in [
                .basic("alice", password: "not the password"), .basic("nobody"), .header("Basic !!!"),
                .header("Bearer sigil_0000000000000000_" + String(repeating: "A", count: 43)),
                .header("Bearer " + String(service.apiKeys["app"]!.dropLast()) + "B"),
            ] {
                let answer = try await service.send("POST", "/v1/sign", as: caller, json: Self.sign)
                #expect(answer.status == 401)
                // The same answer whichever part was wrong.
                #expect(answer.errorCode == "unauthenticated")
                #expect(answer.text.contains("authentication required"))
            }
        }
    }

    @Test("a revoked or expired API key is refused at once")
    func revokedAndExpired() async throws {
        try await ServiceHarness.with { service in
            let (info, key) = try service.vault.createAPIKey(for: "app", expires: Date().addingTimeInterval(-1))
            let expired = key.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            #expect(
                try await service.send("POST", "/v1/sign", as: .header("Bearer " + expired), json: Self.sign).status
                    == 401)
            let listed = try service.vault.apiKeys().first { $0.id == info.id }
            #expect(listed?.expiresAt != nil)
            let app = service.apiKeys["app"]!
            #expect(try await service.send("POST", "/v1/sign", as: .key("app"), json: Self.sign).status == 200)
            let id = String(app.dropFirst(6).prefix(16))
            try service.vault.revokeAPIKey(id)
            #expect(try await service.send("POST", "/v1/sign", as: .key("app"), json: Self.sign).status == 401)
        }
    }

    @Test("repeated failures for a user slow down, then are refused for a while; the right password still counts after")
    func failuresSlowDown() async throws {
        try await ServiceHarness.with { service in
            // The harness's settings: 50 ms doubling, at most 400 ms.
            let clock = ContinuousClock()
            var statuses: [Int] = []
            let started = clock.now
            for _ in 0..<6 {
                statuses.append(
                    try await service.send("POST", "/v1/sign", as: .basic("olga", password: "guess"), json: Self.sign)
                        .status)
            }
            let elapsed = clock.now - started
            // 50 + 100 + 200 + 400 ms of delay at least before the refusals begin.
            #expect(elapsed >= .milliseconds(700), "\(elapsed)")
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })
            #expect(statuses.contains(429) || elapsed >= .milliseconds(1100))
            // Another user's good requests from the same address are answered, neither refused nor
            // counted (no wall-clock bound here: timed assertions are flaky on a shared machine).
            for _ in 0..<5 {
                #expect(try await service.send("POST", "/v1/sign", as: .key("app"), json: Self.sign).status == 200)
            }
            // After the delay has passed, the right password works and clears the count.
            try await Task.sleep(for: .milliseconds(900))
            #expect(try await service.send("POST", "/v1/sign", as: .basic("olga"), json: Self.sign).status != 401)
        }
    }

    @Test("passwords are stored as Argon2id hashes, never the password")
    func storedHash() async throws {
        try await ServiceHarness.with { service in
            let hash = try #require(try service.vault.passwordHash(of: "alice"))
            #expect(hash.hasPrefix("$argon2id$"))
            #expect(!hash.contains(ServiceHarness.password))
            let file = try Data(contentsOf: URL(fileURLWithPath: service.vault.path))
            #expect(file.range(of: Data(ServiceHarness.password.utf8)) == nil)
            #expect(file.range(of: Data(service.apiKeys["app"]!.utf8)) == nil)
        }
    }
}
