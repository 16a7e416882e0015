import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTestSupport
import SigilTokens
import Synchronization
import Testing

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var date: Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
}

/// An in-process provider that counts its calls, answers after a pause (so callers pile up), and
/// can be told to fail.
final class CountingProvider: CredentialProvider {
    let calls = Mutex(0)
    let failing = Mutex(false)
    let clock: ManualClock
    let lifetime: Int64

    init(clock: ManualClock, lifetime: Int64 = 900) {
        self.clock = clock
        self.lifetime = lifetime
    }

    var count: Int { calls.withLock { $0 } }

    func parametersDigest(_ request: IssuanceRequest) throws -> String { request.parameter("roleArn") ?? "" }
    func refreshMargin(_ request: IssuanceRequest) throws -> Int64 { 60 }

    func obtain(_ request: IssuanceRequest, previous: IssuedCredential?, now: Date) async throws -> IssuedCredential {
        let n = calls.withLock {
            $0 += 1
            return $0
        }
        try await Task.sleep(for: .milliseconds(100))
        if failing.withLock({ $0 }) { throw SigilError(.providerFailed, "the provider said no") }
        let seconds = Int64(clock.date.timeIntervalSince1970)
        return IssuedCredential(
            kind: .awsSTS,
            fields: [
                "accessKeyId": SecretBytes(utf8: "ASIATEMP\(n)"),
                "secretAccessKey": SecretBytes(utf8: "temporary-secret-\(n)"),
                "sessionToken": SecretBytes(utf8: "session-token-\(n)"),
            ], obtainedAt: seconds, expiresAt: seconds + lifetime)
    }
}

/// A provider that answers only once the test releases it (at most 30 s), whatever its callers do.
final class SlowProvider: CredentialProvider {
    let calls = Mutex(0)
    let release = Mutex(false)
    let finished = Mutex(false)
    let clock: ManualClock

    init(clock: ManualClock) { self.clock = clock }

    func parametersDigest(_ request: IssuanceRequest) throws -> String { "" }
    func refreshMargin(_ request: IssuanceRequest) throws -> Int64 { 60 }

    func obtain(_ request: IssuanceRequest, previous: IssuedCredential?, now: Date) async throws -> IssuedCredential {
        calls.withLock { $0 += 1 }
        for _ in 0..<3000 where !release.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        finished.withLock { $0 = true }
        let seconds = Int64(clock.date.timeIntervalSince1970)
        return IssuedCredential(
            kind: .awsSTS,
            fields: [
                "accessKeyId": SecretBytes(utf8: "ASIASLOW"), "secretAccessKey": SecretBytes(utf8: "slow-secret"),
            ], obtainedAt: seconds, expiresAt: seconds + 900)
    }
}

let awsRef = PrincipalRef(externalCredential: "Aws", principal: "deployer")

func awsCatalog(roleArn: String = "arn:aws:iam::123456789012:role/deployer") -> ApplyRequest {
    ApplyRequest(
        catalog: Catalog(
            externalCredentials: [
                ExternalCredential(
                    name: "Aws", authProtocol: .awsSigV4, parameters: ["region": "us-east-1", "service": "sts"],
                    principals: [
                        Principal(name: "deployer", type: .named, sequence: 1, parameters: ["roleArn": roleArn])
                    ]
                )
            ],
            namedCredentials: [
                NamedCredential(name: "Sts", url: "https://sts.amazonaws.com", externalCredential: "Aws")
            ]
        ),
        secrets: [
            SecretTarget(owner: .principal(awsRef), field: "accessKeyId"): SecretBytes(utf8: "AKIDSTORED"),
            SecretTarget(owner: .principal(awsRef), field: "secretAccessKey"): SecretBytes(utf8: "stored-secret"),
        ]
    )
}

@Suite("The credential broker: cached, sealed, one refresh at a time")
struct CredentialBrokerTests {
    let clock = ManualClock()

    let key = MasterKey.generate()

    func vault(_ store: TestStore) throws -> (Vault, String) {
        let path = try store.newVaultLocation(
            in: NSTemporaryDirectory(), name: "sigil-tokens-\(UInt64.random(in: 0...UInt64.max)).db")
        let vault = try Vault.create(at: path, key: .key(key), actor: "test", clock: { [clock] in clock.date })
        try vault.apply(awsCatalog())
        return (vault, path)
    }

    func request(_ vault: Vault) throws -> IssuanceRequest {
        let catalog = try vault.catalog()
        let external = try #require(catalog.externalCredential(named: "Aws"))
        return try IssuanceRequest(
            key: IssuedCredentialKey(principal: awsRef, user: nil), external: external,
            principal: external.principals[0], source: vault)
    }

    @Test("200 concurrent callers cause one provider call and all get its value", arguments: TestStore.all)
    func singleFlight(store: TestStore) async throws {
        let (vault, _) = try vault(store)
        let provider = CountingProvider(clock: clock)
        let broker = CredentialBroker(vault: vault, providers: [.awsSTS: provider], clock: { [clock] in clock.date })
        let request = try request(vault)
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await broker.credential(for: request).fields["accessKeyId"]!.withUnsafeBytes {
                        String(decoding: $0, as: UTF8.self)
                    }
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(provider.count == 1)
        #expect(keys == ["ASIATEMP1"])
    }

    @Test(
        "a caller's deadline ends its wait for a refresh at once; the refresh goes on for the next caller",
        arguments: TestStore.all)
    func deadline(store: TestStore) async throws {
        let (vault, _) = try vault(store)
        let provider = SlowProvider(clock: clock)
        let broker = CredentialBroker(vault: vault, providers: [.awsSTS: provider], clock: { [clock] in clock.date })
        let request = try request(vault)
        let waiting = Task { try await broker.credential(for: request) }
        try await Task.sleep(for: .milliseconds(200))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(
            !provider.finished.withLock { $0 },
            "the wait ended with the caller, while the provider call was still running")
        // The refresh went on: the next caller gets its value, with no second provider call.
        provider.release.withLock { $0 = true }
        #expect(try await broker.credential(for: request).fields["accessKeyId"] != nil)
        #expect(provider.calls.withLock { $0 } == 1)
    }

    @Test(
        "brokers on separate vault handles (as separate processes) share one refresh through the lease",
        arguments: TestStore.all)
    func acrossHandles(store: TestStore) async throws {
        let (first, path) = try vault(store)
        let provider = CountingProvider(clock: clock)
        var brokers = [CredentialBroker(vault: first, providers: [.awsSTS: provider], clock: { [clock] in clock.date })]
        for _ in 0..<3 {
            let handle = try Vault.open(at: path, key: .key(key), actor: "test", clock: { [clock] in clock.date })
            brokers.append(
                CredentialBroker(vault: handle, providers: [.awsSTS: provider], clock: { [clock] in clock.date }))
        }
        let request = try request(first)
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for broker in brokers {
                for _ in 0..<25 {
                    group.addTask {
                        try await broker.credential(for: request).fields["accessKeyId"]!.withUnsafeBytes {
                            String(decoding: $0, as: UTF8.self)
                        }
                    }
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(provider.count == 1)
        #expect(keys == ["ASIATEMP1"])
    }

    @Test(
        "a value is reused until shortly before it expires, then replaced; new parameters get a new value",
        arguments: TestStore.all)
    func lifetime(store: TestStore) async throws {
        let (vault, _) = try vault(store)
        let provider = CountingProvider(clock: clock, lifetime: 900)
        let broker = CredentialBroker(vault: vault, providers: [.awsSTS: provider], clock: { [clock] in clock.date })
        _ = try await broker.credential(for: try request(vault))
        clock.advance(900 - 61)
        #expect(
            try await broker.credential(for: try request(vault)).fields["accessKeyId"] == SecretBytes(utf8: "ASIATEMP1")
        )
        clock.advance(2)
        #expect(
            try await broker.credential(for: try request(vault)).fields["accessKeyId"] == SecretBytes(utf8: "ASIATEMP2")
        )
        #expect(provider.count == 2)

        try vault.apply(awsCatalog(roleArn: "arn:aws:iam::123456789012:role/other"))
        #expect(
            try await broker.credential(for: try request(vault)).fields["accessKeyId"] == SecretBytes(utf8: "ASIATEMP3")
        )
    }

    @Test(
        "a provider failure reaches the caller and is recorded; the provider is not asked again until the back-off ends",
        arguments: TestStore.all)
    func failure(store: TestStore) async throws {
        let (vault, _) = try vault(store)
        let provider = CountingProvider(clock: clock)
        provider.failing.withLock { $0 = true }
        let broker = CredentialBroker(vault: vault, providers: [.awsSTS: provider], clock: { [clock] in clock.date })
        let error = await #expect(throws: SigilError.self) { try await broker.credential(for: try request(vault)) }
        #expect(error?.code == .providerFailed)
        #expect(try vault.issuedCredentialStatuses().first?.lastError == "the provider said no")
        provider.failing.withLock { $0 = false }
        await #expect(throws: SigilError.self) { try await broker.credential(for: try request(vault)) }
        #expect(provider.count == 1, "backing off")
        clock.advance(1.1)
        #expect(
            try await broker.credential(for: try request(vault)).fields["accessKeyId"] == SecretBytes(utf8: "ASIATEMP2")
        )
        #expect(try vault.issuedCredentialStatuses().first?.lastError == nil)
    }

    @Test(
        "when the provider fails near expiry, the value that has not expired yet is used; an expired one never is",
        arguments: TestStore.all)
    func failureNearExpiry(store: TestStore) async throws {
        let (vault, _) = try vault(store)
        let provider = CountingProvider(clock: clock, lifetime: 900)
        let broker = CredentialBroker(vault: vault, providers: [.awsSTS: provider], clock: { [clock] in clock.date })
        _ = try await broker.credential(for: try request(vault))
        provider.failing.withLock { $0 = true }
        clock.advance(900 - 30)  // inside the 60 s margin, not expired
        #expect(
            try await broker.credential(for: try request(vault)).fields["accessKeyId"] == SecretBytes(utf8: "ASIATEMP1")
        )
        clock.advance(31)  // expired
        await #expect(throws: SigilError.self) { try await broker.credential(for: try request(vault)) }
    }

    @Test(
        "the engine signs a roleArn principal with the issued credentials, and refuses without an issuer",
        arguments: TestStore.all)
    func engine(store: TestStore) async throws {
        let (vault, _) = try vault(store)
        let provider = CountingProvider(clock: clock)
        let broker = CredentialBroker(vault: vault, providers: [.awsSTS: provider], clock: { [clock] in clock.date })
        let signed = try await SigningEngine(source: vault, issuer: broker).decorate(
            OutboundRequest(method: "POST", url: "callout:Sts/", body: .bytes(Array("Action=GetCallerIdentity".utf8))))
        let authorization = try #require(signed.headers.first { $0.name == "Authorization" }?.value)
        #expect(authorization.contains("Credential=ASIATEMP1/"))
        #expect(signed.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == "session-token-1" })

        let error = await #expect(throws: SigilError.self) {
            try await SigningEngine(source: vault).decorate(OutboundRequest(url: "callout:Sts/"))
        }
        #expect(
            error?.reason.contains("principal Aws/deployer signs with credentials obtained from a provider (aws-sts)")
                == true)
    }
}
