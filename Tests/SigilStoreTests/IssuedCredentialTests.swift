import Foundation
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Synchronization
import Testing

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var date: Date { now.withLock { $0 } }
    var seconds: Int64 { Int64(date.timeIntervalSince1970) }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
}

@Suite("Issued credentials: sealed storage and the refresh lease")
struct IssuedCredentialTests {
    let clock = TestClock()
    let key = IssuedCredentialKey(principal: billingRef, user: nil)

    func vault(_ store: TestStore) throws -> (Vault, String) {
        let path = try store.newVaultLocation(in: temporaryDirectory())
        let vault = try Vault.create(
            at: path, key: .key(MasterKey.generate()), actor: "test", clock: { [clock] in clock.date })
        try vault.apply(exampleRequest())
        return (vault, path)
    }

    func credential(_ token: String, expiresIn seconds: Int64 = 3600) -> IssuedCredential {
        IssuedCredential(
            kind: .oauth2, fields: ["accessToken": SecretBytes(utf8: token)], obtainedAt: clock.seconds,
            expiresAt: clock.seconds + seconds)
    }

    func lease(_ vault: Vault, holder: String) throws -> RefreshLease {
        guard case .granted(let lease) = try vault.acquireRefreshLease(key, kind: .oauth2, holder: holder, duration: 60)
        else {
            Issue.record("the lease was not granted to \(holder)")
            throw SigilError(.conflict, "lease held")
        }
        return lease
    }

    @Test(
        "a stored value reads back under the same kind and parameters only, and is sealed on disk",
        arguments: TestStore.all)
    func roundTrip(store: TestStore) throws {
        let (vault, path) = try vault(store)
        #expect(try vault.issuedCredential(key, kind: .oauth2, parametersDigest: "d1") == nil)
        let lease = try lease(vault, holder: "a")
        #expect(try vault.storeIssuedCredential(credential("token-value-7f3a9c"), parametersDigest: "d1", under: lease))
        let read = try #require(try vault.issuedCredential(key, kind: .oauth2, parametersDigest: "d1"))
        #expect(read.fields["accessToken"] == SecretBytes(utf8: "token-value-7f3a9c"))
        #expect(read.expiresAt == clock.seconds + 3600)
        #expect(try vault.issuedCredential(key, kind: .oauth2, parametersDigest: "other") == nil)
        #expect(try vault.issuedCredential(key, kind: .awsSTS, parametersDigest: "d1") == nil)
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
            #expect(bytes.range(of: Data("token-value-7f3a9c".utf8)) == nil, "plaintext in \(path + suffix)")
        }
        #expect(try vault.verifyAudit().valid)
        #expect(try vault.auditEntries().contains { $0.action == "issued.store" })
    }

    @Test(
        "one refresher at a time; a refresher whose lease lapsed cannot overwrite the newer value",
        arguments: TestStore.all)
    func fencing(store: TestStore) throws {
        let (vault, _) = try vault(store)
        let slow = try lease(vault, holder: "slow")
        guard
            case .held(let until, let fence, let holder) = try vault.acquireRefreshLease(
                key, kind: .oauth2, holder: "fast", duration: 60)
        else {
            Issue.record("a second holder got a live lease")
            return
        }
        #expect(until == clock.seconds + 60 && fence == slow.fence && holder == "slow")
        let state = try #require(try vault.refreshLeaseState(key))
        #expect(
            state.fence == slow.fence && state.holder == "slow" && state.until == until
                && state.writtenFence != slow.fence && !state.hasValue)
        // A holder known to be gone (a process of this machine that no longer runs) is taken over.
        guard
            case .granted(let takeover) = try vault.acquireRefreshLease(
                key, kind: .oauth2, holder: "other", duration: 60, takingOverFrom: "slow")
        else {
            Issue.record("a gone holder's lease was not taken over")
            return
        }
        try vault.releaseRefreshLease(takeover, error: "provider said no")
        #expect(try vault.refreshLeaseState(key)?.lastError == "provider said no")
        #expect(try vault.refreshLeaseState(key)?.holder == nil)
        clock.advance(61)
        let fast = try lease(vault, holder: "fast")
        #expect(fast.fence == slow.fence + 2)
        #expect(try vault.storeIssuedCredential(credential("new"), parametersDigest: "d", under: fast))
        #expect(try !vault.storeIssuedCredential(credential("stale"), parametersDigest: "d", under: slow))
        #expect(
            try vault.issuedCredential(key, kind: .oauth2, parametersDigest: "d")?.fields["accessToken"]
                == SecretBytes(utf8: "new"))
        // Storing released the lease: the next refresher gets it at once.
        _ = try lease(vault, holder: "next")
    }

    @Test("a failed refresh records its error and frees the lease", arguments: TestStore.all)
    func failure(store: TestStore) throws {
        let (vault, _) = try vault(store)
        let first = try lease(vault, holder: "a")
        try vault.releaseRefreshLease(first, error: "HTTP 400, invalid_grant")
        let status = try #require(try vault.issuedCredentialStatuses().first)
        #expect(status.principal == billingRef.description)
        #expect(status.lastError == "HTTP 400, invalid_grant")
        _ = try lease(vault, holder: "b")
    }

    @Test("rotating the data key re-seals issued credentials too", arguments: TestStore.all)
    func reseal(store: TestStore) throws {
        let (vault, _) = try vault(store)
        #expect(
            try vault.storeIssuedCredential(
                credential("survives"), parametersDigest: "d", under: try lease(vault, holder: "a")))
        try vault.rotateDataKey()
        var remaining = 1
        for _ in 0..<10 where remaining > 0 { remaining = try vault.resealBatch(limit: 1).remaining }
        #expect(remaining == 0)
        #expect(try vault.keyStatus().keys.filter { $0.purpose == "data" }.count == 1)
        #expect(
            try vault.issuedCredential(key, kind: .oauth2, parametersDigest: "d")?.fields["accessToken"]
                == SecretBytes(utf8: "survives"))
    }

    @Test(
        "a user's issued credential goes with their authorization; the fields encoding round-trips",
        arguments: TestStore.all)
    func perUser(store: TestStore) throws {
        let (vault, _) = try vault(store)
        let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")
        try vault.setSecret(
            SecretTarget(owner: .authorization(calendar, user: "alice"), field: "password"),
            value: SecretBytes(utf8: "pw"))
        let userKey = IssuedCredentialKey(principal: calendar, user: "alice")
        guard
            case .granted(let lease) = try vault.acquireRefreshLease(userKey, kind: .oauth2, holder: "a", duration: 60)
        else {
            Issue.record("no lease")
            return
        }
        #expect(try vault.storeIssuedCredential(credential("alice-token"), parametersDigest: "d", under: lease))
        #expect(try vault.issuedCredential(userKey, kind: .oauth2, parametersDigest: "d") != nil)
        try vault.delete(.authorization(calendar, user: "alice"))
        #expect(try vault.issuedCredential(userKey, kind: .oauth2, parametersDigest: "d") == nil)
        #expect(try vault.issuedCredentialStatuses().isEmpty)

        let fields = ["a": SecretBytes(utf8: ""), "b": SecretBytes(copying: [0, 1, 2, 255])]
        let decoded = try #require(
            IssuedCredential.decodeFields(
                IssuedCredential(kind: .awsSTS, fields: fields, obtainedAt: 0, expiresAt: nil).encodedFields()))
        #expect(decoded == fields)
        #expect(IssuedCredential.decodeFields(SecretBytes(copying: [0, 0, 0, 9, 1])) == nil)
    }
}

@Suite("The catalog kept in memory")
struct CatalogCacheTests {
    @Test("a change through the same handle is seen at once; through another handle within the revalidation time")
    func freshness() async throws {
        let (writer, key, path) = try makeVault()
        let reader = try Vault.open(at: path, key: .key(key), actor: "reader")
        #expect(try reader.catalog().externalCredentials.isEmpty)
        try writer.apply(
            ApplyRequest(
                catalog: Catalog(externalCredentials: [ExternalCredential(name: "First", authProtocol: .none)])))
        #expect(try writer.catalog().externalCredential(named: "First") != nil, "the writer's own change, at once")
        try await Task.sleep(for: .milliseconds(150))
        #expect(
            try reader.catalog().externalCredential(named: "First") != nil,
            "another handle's change, after the revalidation time")
        try reader.delete(.externalCredential("First"))
        #expect(try reader.catalog().externalCredential(named: "First") == nil)
        try await Task.sleep(for: .milliseconds(150))
        #expect(try writer.catalog().externalCredential(named: "First") == nil)
    }

    @Test("the snapshot stays the same object until the catalog changes, even when other writes make it read again")
    func snapshotIdentity() async throws {
        let (vault, _, _) = try makeVault()
        try vault.apply(
            ApplyRequest(
                catalog: Catalog(externalCredentials: [
                    ExternalCredential(
                        name: "First", authProtocol: .none,
                        principals: [Principal(name: "p", type: .named, sequence: 1)])
                ])))
        let first = try vault.snapshot()
        #expect(try vault.snapshot() === first)
        try vault.apply(ApplyRequest(catalog: Catalog(users: [User(name: "alice")])))
        let second = try vault.snapshot()
        #expect(second !== first && second.catalog.user(named: "alice") != nil, "a changed catalog is a new snapshot")
        _ = try vault.setSecret(
            SecretTarget(owner: .principal(PrincipalRef(externalCredential: "First", principal: "p")), field: "token"),
            value: SecretBytes(utf8: "x"))
        #expect(
            try vault.snapshot() === second, "a secret written: the catalog read again is equal, so the same snapshot")
        try await Task.sleep(for: .milliseconds(150))
        #expect(try vault.snapshot() === second)
    }

    @Test(
        "live authorizations of per-user principals are read with the catalog and follow this handle's changes at once")
    func authorizationsInSnapshot() throws {
        let (vault, _, _) = try makeVault()
        let principal = PrincipalRef(externalCredential: "Cal", principal: "mine")
        try vault.apply(
            ApplyRequest(
                catalog: Catalog(
                    externalCredentials: [
                        ExternalCredential(
                            name: "Cal", authProtocol: .basic,
                            principals: [Principal(name: "mine", type: .perUser, sequence: 1)])
                    ],
                    users: [User(name: "alice")]
                )))
        #expect(try vault.snapshot().authorizedUsers?[principal] == nil)
        _ = try vault.setSecret(
            SecretTarget(owner: .authorization(principal, user: "alice"), field: "password"),
            value: SecretBytes(utf8: "pw"))
        let authorized = try vault.snapshot()
        #expect(authorized.authorizedUsers?[principal] == ["alice"])
        #expect(try vault.authorizedUsers(of: principal) == ["alice"])
        try vault.delete(.authorization(principal, user: "alice"))
        #expect(try vault.snapshot() !== authorized && vault.authorizedUsers(of: principal).isEmpty)
    }
}
