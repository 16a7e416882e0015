import Foundation
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

/// A one-shot command reads only what its request needs (``Vault/CatalogLoading/perRequest``): the
/// named credential, its external credential and principals, and the acting user's groups, grants
/// and authorizations, each row checked with its MAC and its bucket.
@Suite("The catalog read per request: only what the request needs, each row and its bucket checked")
struct ScopedCatalogTests {
    static let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")

    /// CatalogAuthenticationTests' rich vault, plus a named credential on Calendar granted to alice.
    static func vault(_ store: TestStore) throws -> (Vault, MasterKey, String) {
        let (key, path) = try CatalogAuthenticationTests.richVault(store)
        let vault = try Vault.open(at: path, key: .key(key), actor: "test")
        try vault.apply(
            ApplyRequest(
                catalog: Catalog(
                    namedCredentials: [
                        NamedCredential(
                            name: "Calendar", url: "https://calendar.example:8443/api", externalCredential: "Calendar")
                    ],
                    grants: [Grant(principal: calendar, subjects: [.user("alice")])])))
        return (vault.loadingCatalog(.perRequest), key, path)
    }

    static func scoped(_ vault: Vault, _ url: String, as user: String? = nil) throws -> CatalogSnapshot {
        try vault.snapshotAndSecretsVersion(for: CatalogScope(url: url, user: user)).0
    }

    @Test(
        "a callout reads its named credential, external credential and principals, and nothing else",
        arguments: TestStore.all)
    func calloutScope(store: TestStore) throws {
        let (vault, _, _) = try Self.vault(store)
        let whole = try vault.snapshot().catalog
        let snapshot = try Self.scoped(vault, "callout:Billing/v1/invoices?x=1")
        #expect(snapshot.catalog.namedCredentials == [whole.namedCredential(named: "Billing")!])
        #expect(snapshot.catalog.externalCredentials.map(\.name) == ["Billing"])
        #expect(
            snapshot.catalog.externalCredential(named: "Billing")?.principals.map(\.name) == ["billing-org", "backup"])
        #expect(snapshot.catalog.users.isEmpty && snapshot.catalog.grants.isEmpty)
        #expect(snapshot.version == (try vault.snapshot().version))
        #expect(try Self.scoped(vault, "callout:Nothing/x").catalog.namedCredentials.isEmpty)
    }

    @Test(
        "the acting user comes with their groups, the grants they hold and their live authorizations",
        arguments: TestStore.all)
    func userScope(store: TestStore) throws {
        let (vault, _, _) = try Self.vault(store)
        let alice = try Self.scoped(vault, "callout:Billing/x", as: "alice")
        #expect(alice.catalog.users == [User(name: "alice", groups: ["finance"])])
        // Billing/billing-org through group finance; Billing/backup is bob's, not hers.
        #expect(alice.catalog.grants == [Grant(principal: billingRef, subjects: [.group("finance")])])
        let bob = try Self.scoped(vault, "callout:Billing/x", as: "bob")
        #expect(
            bob.catalog.grants == [
                Grant(
                    principal: PrincipalRef(externalCredential: "Billing", principal: "backup"),
                    subjects: [.user("bob")])
            ])
        let calendar = try Self.scoped(vault, "callout:Calendar/events", as: "alice")
        #expect(calendar.catalog.grants == [Grant(principal: Self.calendar, subjects: [.user("alice")])])
        #expect(calendar.authorizedUsers == [Self.calendar: ["alice"]])
        #expect(try Self.scoped(vault, "callout:Calendar/events", as: "bob").authorizedUsers == [:])
        #expect(try Self.scoped(vault, "callout:Calendar/events", as: "nobody").catalog.users.isEmpty)
    }

    @Test(
        "an absolute URL reads the named credentials on its host, whatever its case and port", arguments: TestStore.all)
    func absoluteScope(store: TestStore) throws {
        let (vault, _, _) = try Self.vault(store)
        #expect(
            try Self.scoped(vault, "https://API.Billing.example/v1/x").catalog.namedCredentials.map(\.name) == [
                "Billing"
            ])
        #expect(
            try Self.scoped(vault, "https://calendar.example:8443/api/e").catalog.namedCredentials.map(\.name)
                == ["Calendar"])
        #expect(try Self.scoped(vault, "https://elsewhere.example/v1").catalog.namedCredentials.isEmpty)
        #expect(try Self.scoped(vault, "not a url").catalog.namedCredentials.isEmpty)
    }

    /// A change made without the key to a row the request reads, and the words its refusal names.
    static let edits: [CatalogAuthenticationTests.Edit] = [
        .init(
            label: "named credential url",
            sql: "UPDATE named_credentials SET url = 'https://evil.example/v1' WHERE name = 'Billing'",
            names: "named credential Billing"),
        .init(
            label: "external credential custom headers",
            sql: "UPDATE external_credentials SET custom_headers = '[]' WHERE name = 'Billing'",
            names: "external credential Billing"),
        .init(
            label: "principal sequence", sql: "UPDATE principals SET sequence = 9 WHERE name = 'billing-org'",
            names: "principal Billing/billing-org"),
        .init(
            label: "group membership", sql: "UPDATE group_members SET user_id = \(CatalogAuthenticationTests.bob)",
            names: "membership of user bob in group finance"),
        .init(
            label: "grant's user",
            sql:
                "UPDATE grants SET user_id = \(CatalogAuthenticationTests.alice) WHERE user_id = \(CatalogAuthenticationTests.bob)",
            names: "grant of principal Billing/backup to user:alice"),
        .init(
            label: "authorization status", sql: "UPDATE user_authorizations SET status = 'needs-reauthorization'",
            names: "authorization of principal Calendar/per-user by user alice"),
        .init(
            label: "a bucket's MAC", sql: "UPDATE catalog_buckets SET row_count = row_count + 1 WHERE name = 'users'",
            names: "table users: rows were added or removed"),
        .init(
            label: "a table's bucket list", sql: "DELETE FROM catalog_buckets WHERE name = 'principals'",
            names: "table principals: rows were added or removed"),
    ]

    @Test("a row the request reads, changed without the key, is refused by name", arguments: edits, TestStore.all)
    func tamperInScope(_ edit: CatalogAuthenticationTests.Edit, store: TestStore) throws {
        let (vault, key, path) = try Self.vault(store)
        try TestStore.raw(path, edit.sql)
        let reopened = try Vault.open(at: path, key: .key(key), actor: "test").loadingCatalog(.perRequest)
        let error = #expect(throws: SigilError.self) {
            _ = try Self.scoped(reopened, "callout:Billing/x", as: "alice")
            _ = try Self.scoped(reopened, "callout:Calendar/x", as: "alice")
            _ = try Self.scoped(reopened, "callout:Billing/x", as: "bob")
        }
        #expect(error?.code == .catalogTampered)
        #expect(error?.reason.contains(edit.names) == true, "\(error?.reason ?? "no error")")
        _ = vault
    }

    @Test("an older copy of a row put back with its own genuine MAC is refused by its bucket", arguments: TestStore.all)
    func olderRowPutBack(store: TestStore) throws {
        let (vault, key, path) = try Self.vault(store)
        let old = try #require(
            try TestStore.rawValue(
                path, "SELECT encode(mac, 'hex') FROM named_credentials WHERE name = 'Billing'".forStore(path)))
        var request = exampleRequest()
        request.catalog = Catalog(
            namedCredentials: [
                NamedCredential(
                    name: "Billing", url: "https://api2.billing.example/v1", externalCredential: "Billing",
                    generateAuthorizationHeader: false, allowMergeFieldsInHeader: true)
            ])
        request.secrets = [:]
        try vault.apply(request)
        #expect(
            try Self.scoped(vault, "callout:Billing/x").catalog.namedCredentials.first?.url.contains("api2") == true)
        // The row as it was, MAC and all: its own MAC matches, its bucket's does not.
        let hex = path.hasPrefix("postgres://") ? "decode('\(old)', 'hex')" : "X'\(old)'"
        try TestStore.raw(
            path,
            "UPDATE named_credentials SET url = 'https://api.billing.example/v1', mac = \(hex) WHERE name = 'Billing'")
        let reopened = try Vault.open(at: path, key: .key(key), actor: "test").loadingCatalog(.perRequest)
        let error = #expect(throws: SigilError.self) { try Self.scoped(reopened, "callout:Billing/x") }
        #expect(error?.code == .catalogTampered)
        #expect(
            error?.reason.contains("table named_credentials: rows were added or removed") == true,
            "\(error?.reason ?? "")")
        #expect(try reopened.verifyCatalog().map(\.table) == ["named_credentials"])
    }

    @Test(
        "an older secret version put back as current is refused when the request reads its secrets",
        arguments: TestStore.all)
    func olderSecretPutBack(store: TestStore) throws {
        let (vault, key, path) = try Self.vault(store)
        // Version 2 is current: its row as it is now, MAC and all.
        let current = "field = 'apiKey' AND owner_kind = 'principal' AND stage = 'current'"
        let old = try #require(
            try TestStore.rawValue(path, "SELECT encode(mac, 'hex') FROM secrets WHERE \(current)".forStore(path)))
        // A third version: version 2 becomes previous.
        try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "third"))
        let reopened = try Vault.open(at: path, key: .key(key), actor: "test").loadingCatalog(.perRequest)
        let (snapshot, _) = try reopened.snapshotAndSecretsVersion(
            for: CatalogScope(url: "callout:Billing/x", user: nil))
        let principal = IssuedCredentialKey(principal: billingRef, user: nil)
        #expect(
            try reopened.principalSecrets(of: principal, type: .named, consistentWith: snapshot)?["apiKey"]
                == SecretBytes(utf8: "third"))
        // Version 3 removed and version 2 put back as it was when current: its own MAC matches.
        let hex = path.hasPrefix("postgres://") ? "decode('\(old)', 'hex')" : "X'\(old)'"
        try TestStore.raw(
            path,
            """
            DELETE FROM secrets WHERE \(current);
            UPDATE secrets SET stage = 'current', mac = \(hex) WHERE field = 'apiKey' AND owner_kind = 'principal' AND stage = 'previous';
            """)
        let error = #expect(throws: SigilError.self) {
            try reopened.principalSecrets(of: principal, type: .named, consistentWith: snapshot)
        }
        #expect(error?.code == .catalogTampered)
        #expect(error?.reason.contains("table secrets: rows were added or removed") == true, "\(error?.reason ?? "")")
    }

    @Test(
        "a change outside the request's rows does not stop it, and the whole check reports it", arguments: TestStore.all
    )
    func tamperOutOfScope(store: TestStore) throws {
        let (vault, key, path) = try Self.vault(store)
        try TestStore.raw(path, "UPDATE named_credentials SET url = 'https://evil.example' WHERE name = 'Pinned'")
        let reopened = try Vault.open(at: path, key: .key(key), actor: "test").loadingCatalog(.perRequest)
        #expect(try Self.scoped(reopened, "callout:Billing/x", as: "alice").catalog.namedCredentials.count == 1)
        #expect(throws: SigilError.self) { try reopened.snapshot() }
        #expect(try reopened.verifyCatalog().contains { $0.description.contains("named credential Pinned") })
        _ = vault
    }
}

extension String {
    /// `encode(x, 'hex')` as SQLite spells it (`hex(x)`), for a statement run on `location`'s store.
    fileprivate func forStore(_ location: String) -> String {
        location.hasPrefix("postgres://")
            ? self : replacingOccurrences(of: "encode(mac, 'hex')", with: "lower(hex(mac))")
    }
}
