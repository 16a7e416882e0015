import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import SigilTestSupport
import Testing

/// Someone who can write the vault file but has no key edits the catalog with sqlite3: every
/// security-relevant column of every table, rows swapped or deleted. Each change is refused when
/// the catalog is loaded, by a message naming the item, and reported by the audit check.
@Suite("The catalog is authenticated: what is changed without the key is refused by name")
struct CatalogAuthenticationTests {
    /// One change made without the key, and the words the refusal must contain.
    struct Edit: Sendable, CustomTestStringConvertible {
        let label: String
        let sql: String
        let names: String
        var testDescription: String { label }
    }

    static let ecID = "(SELECT id FROM external_credentials WHERE name = 'Billing')"
    static let calendarID = "(SELECT id FROM external_credentials WHERE name = 'Calendar')"
    static let orgPrincipal = "(SELECT id FROM principals WHERE name = 'billing-org')"
    static let backupPrincipal = "(SELECT id FROM principals WHERE name = 'backup')"
    static let alice = "(SELECT id FROM users WHERE name = 'alice')"
    static let bob = "(SELECT id FROM users WHERE name = 'bob')"

    /// `current` and `previous` of Billing/billing-org's apiKey swapped (a silent rollback).
    static let swapStages = """
        UPDATE secrets SET stage = 'pending' WHERE field = 'apiKey' AND owner_kind = 'principal' AND stage = 'current';
        UPDATE secrets SET stage = 'current' WHERE field = 'apiKey' AND owner_kind = 'principal' AND stage = 'previous';
        UPDATE secrets SET stage = 'previous' WHERE field = 'apiKey' AND owner_kind = 'principal' AND stage = 'pending';
        """

    static let edits: [Edit] = [
        Edit(
            label: "external credential name",
            sql: "UPDATE external_credentials SET name = 'Evil' WHERE name = 'Billing'",
            names: "external credential Evil"),
        Edit(
            label: "external credential protocol",
            sql: "UPDATE external_credentials SET protocol = 'none' WHERE name = 'Billing'",
            names: "external credential Billing"),
        Edit(
            label: "external credential parameters",
            sql: "UPDATE external_credentials SET parameters = '{\"tier\":\"free\"}' WHERE name = 'Billing'",
            names: "external credential Billing"),
        Edit(
            label: "external credential custom headers",
            sql:
                "UPDATE external_credentials SET custom_headers = '[[\"X-Api-Key\",\"{!$Credential.Billing.backup}\"]]' WHERE name = 'Billing'",
            names: "external credential Billing"),
        Edit(
            label: "principal's external credential",
            sql: "UPDATE principals SET external_credential_id = \(calendarID) WHERE name = 'backup'",
            names: "principal Calendar/backup"),
        Edit(
            label: "principal name", sql: "UPDATE principals SET name = 'stolen' WHERE name = 'billing-org'",
            names: "principal Billing/stolen"),
        Edit(
            label: "principal type", sql: "UPDATE principals SET type = 'per-user' WHERE name = 'backup'",
            names: "principal Billing/backup"),
        Edit(
            label: "principal sequence", sql: "UPDATE principals SET sequence = 9 WHERE name = 'billing-org'",
            names: "principal Billing/billing-org"),
        Edit(
            label: "principal parameters",
            sql: "UPDATE principals SET parameters = '{\"username\":\"root\"}' WHERE name = 'backup'",
            names: "principal Billing/backup"),
        Edit(
            label: "named credential name", sql: "UPDATE named_credentials SET name = 'Other' WHERE name = 'Billing'",
            names: "named credential Other"),
        Edit(
            label: "named credential url",
            sql: "UPDATE named_credentials SET url = 'https://evil.example/v1' WHERE name = 'Billing'",
            names: "named credential Billing"),
        Edit(
            label: "named credential's external credential",
            sql: "UPDATE named_credentials SET external_credential_id = \(calendarID) WHERE name = 'Billing'",
            names: "named credential Billing"),
        Edit(
            label: "generateAuthorizationHeader",
            sql: "UPDATE named_credentials SET generate_authorization_header = 1 WHERE name = 'Billing'",
            names: "named credential Billing"),
        Edit(
            label: "allowMergeFieldsInHeader",
            sql: "UPDATE named_credentials SET allow_merge_fields_in_header = 0 WHERE name = 'Billing'",
            names: "named credential Billing"),
        Edit(
            label: "allowMergeFieldsInBody",
            sql: "UPDATE named_credentials SET allow_merge_fields_in_body = 1 WHERE name = 'Billing'",
            names: "named credential Billing"),
        Edit(
            label: "named credential custom headers",
            sql: "UPDATE named_credentials SET custom_headers = '[]' WHERE name = 'Pinned'",
            names: "named credential Pinned"),
        Edit(
            label: "client certificate",
            sql: "UPDATE named_credentials SET client_certificate = NULL WHERE name = 'Pinned'",
            names: "named credential Pinned"),
        Edit(
            label: "trust bundle and pins", sql: "UPDATE named_credentials SET trust = NULL WHERE name = 'Pinned'",
            names: "named credential Pinned"),
        Edit(label: "user name", sql: "UPDATE users SET name = 'mallory' WHERE name = 'bob'", names: "user mallory"),
        Edit(
            label: "group name", sql: "UPDATE groups SET name = 'admins' WHERE name = 'finance'", names: "group admins"),
        Edit(
            label: "group membership", sql: "UPDATE group_members SET user_id = \(bob) WHERE user_id = \(alice)",
            names: "membership of user bob in group finance"),
        Edit(
            label: "grant's principal",
            sql: "UPDATE grants SET principal_id = \(backupPrincipal) WHERE principal_id = \(orgPrincipal)",
            names: "grant of principal Billing/backup"),
        Edit(
            label: "grant's user", sql: "UPDATE grants SET user_id = \(alice) WHERE user_id = \(bob)",
            names: "grant of principal Billing/backup to user:alice"),
        Edit(
            label: "grant's group",
            sql:
                "UPDATE grants SET group_id = (SELECT id FROM groups WHERE name = 'auditors') WHERE group_id IS NOT NULL",
            names: "to group:auditors"),
        Edit(
            label: "authorization status", sql: "UPDATE user_authorizations SET status = 'needs-reauthorization'",
            names: "authorization of principal Calendar/per-user by user alice"),
        Edit(
            label: "authorization's user", sql: "UPDATE user_authorizations SET user_id = \(bob)",
            names: "authorization of principal Calendar/per-user by user bob"),
        Edit(
            label: "secret stage", sql: "UPDATE secrets SET stage = 'pending' WHERE stage = 'previous'",
            names: "secret apiKey of principal Billing/billing-org, version 1 (pending)"),
        Edit(
            label: "secret owner", sql: "UPDATE secrets SET owner_id = \(backupPrincipal) WHERE stage = 'previous'",
            names: "secret apiKey of principal Billing/backup"),
        Edit(
            label: "secret field", sql: "UPDATE secrets SET field = 'other' WHERE stage = 'previous'",
            names: "secret other of principal Billing/billing-org"),
        Edit(
            label: "secret version", sql: "UPDATE secrets SET version = 7 WHERE stage = 'previous'",
            names: "secret apiKey of principal Billing/billing-org, version 7"),
        Edit(
            label: "stages swapped between versions (a silent rollback)", sql: swapStages,
            names: "secret apiKey of principal Billing/billing-org"),
        Edit(
            label: "URLs swapped between named credentials",
            sql: """
                UPDATE named_credentials SET url = CASE name WHEN 'Billing' THEN 'https://pinned.example' ELSE 'https://api.billing.example/v1' END
                """, names: "named credential Billing"),
        Edit(
            label: "a MAC copied from another row",
            sql: "UPDATE users SET mac = (SELECT mac FROM users WHERE name = 'alice') WHERE name = 'bob'",
            names: "user bob"),
        Edit(
            label: "a grant deleted", sql: "DELETE FROM grants WHERE user_id = \(bob)",
            names: "table grants: rows were added or removed without the vault's key (1 fewer rows"),
        Edit(
            label: "a grant inserted",
            sql: "INSERT INTO grants (principal_id, user_id, created_at) VALUES (\(orgPrincipal), \(bob), 'now')",
            names: "grant of principal Billing/billing-org to user:bob"),
        Edit(
            label: "a grant inserted with another row's MAC",
            sql: """
                INSERT INTO grants (principal_id, user_id, created_at, mac) VALUES (\(orgPrincipal), \(bob), 'now', (SELECT mac FROM grants WHERE user_id = \(bob)))
                """, names: "grant of principal Billing/billing-org to user:bob"),
        Edit(
            label: "a principal deleted", sql: "DELETE FROM principals WHERE name = 'billing-org'",
            names: "table principals: rows were added or removed"),
        Edit(
            label: "a secret version deleted",
            sql: "DELETE FROM secrets WHERE stage = 'current' AND field = 'apiKey' AND owner_id = \(orgPrincipal)",
            names: "table secrets: rows were added or removed"),
        Edit(
            label: "a table's row-set MAC deleted", sql: "DELETE FROM catalog_tables WHERE name = 'grants'",
            names: "table grants: its row-set MAC in catalog_tables is missing"),
        // A rotation's step decides which value becomes current, its finish time when the previous
        // one may be deleted.
        Edit(
            label: "a rotation's step", sql: "UPDATE rotations SET step = 'finished'",
            names: "rotation of authorization of principal Calendar/per-user by user alice"),
        Edit(
            label: "a rotation's finish time", sql: "UPDATE rotations SET finished_at = '2000-01-01T00:00:00Z'",
            names: "rotation of authorization of principal Calendar/per-user by user alice"),
        Edit(
            label: "a rotation deleted", sql: "DELETE FROM rotations",
            names: "table rotations: rows were added or removed"),
        Edit(
            label: "a rotation policy", sql: "UPDATE rotation_policies SET policy = replace(policy, '2592000', '3600')",
            names: "rotation policy of external credential Billing"),
    ]

    /// A vault with every kind of row: two external credentials, three principals, two named
    /// credentials (one with a client certificate, a CA bundle and a pin), users, groups, grants to
    /// a user and a group, a user's authorization with its secret, and a secret with two versions.
    static func richVault(_ store: TestStore = .sqlite) throws -> (MasterKey, String) {
        let (vault, key, path) = try makeVault(store)
        var request = exampleRequest(apiKey: "first")
        request.catalog = request.catalog.merging(
            Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "Billing", authProtocol: .custom, parameters: ["tier": "gold"],
                        customHeaders: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Billing.apiKey}")],
                        principals: [
                            Principal(name: "billing-org", type: .named, sequence: 1),
                            Principal(name: "backup", type: .named, sequence: 2),
                        ],
                        rotation: RotationPolicy(rotator: .generated, every: 30 * 86_400)
                    )
                ],
                namedCredentials: [
                    NamedCredential(
                        name: "Pinned", url: "https://pinned.example", externalCredential: "Billing",
                        generateAuthorizationHeader: false,
                        customHeaders: [CustomHeader(name: "X-Team", value: "payments")],
                        clientCertificate: testCertificatePEM,
                        trust: NamedCredential.Trust(
                            caBundle: testCertificatePEM, pins: ["sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])
                    )
                ],
                users: [User(name: "alice", groups: ["finance"]), User(name: "bob")], groups: ["auditors"],
                grants: [
                    Grant(principal: billingRef, subjects: [.group("finance")]),
                    Grant(
                        principal: PrincipalRef(externalCredential: "Billing", principal: "backup"),
                        subjects: [.user("bob")]),
                ]
            ))
        request.secrets[SecretTarget(owner: .namedCredential("Pinned"), field: NamedCredential.clientKeyField)] =
            SecretBytes(utf8: "key")
        try vault.apply(request)
        try vault.setSecret(apiKeyTarget, value: SecretBytes(utf8: "second"))
        let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")
        try vault.setSecret(
            SecretTarget(owner: .authorization(calendar, user: "alice"), field: "password"),
            value: SecretBytes(utf8: "alice-pw"))
        // A rotation under way: its new value pending, tested.
        let alices = SecretOwner.authorization(calendar, user: "alice")
        try vault.startRotation(alices, values: ["password": SecretBytes(utf8: "alice-pw-2")], rotator: "supplied")
        try vault.recordRotationTest(alices, error: nil)
        return (key, path)
    }

    static func raw(_ path: String, _ sql: String) throws {
        try TestStore.raw(path, sql)
    }

    @Test("an untouched vault authenticates, and its check lists nothing", arguments: TestStore.all)
    func untouched(store: TestStore) throws {
        let (key, path) = try Self.richVault(store)
        let vault = try Vault.open(at: path, key: .key(key), actor: "test")
        #expect(try vault.verifyCatalog().isEmpty)
        #expect(try vault.verifyAudit().valid)
        #expect(try vault.snapshot().catalog.namedCredentials.count == 2)
    }

    @Test(
        "each change made without the key is refused at load, naming the item, and reported by the audit check",
        arguments: edits, TestStore.all)
    func refused(_ edit: Edit, store: TestStore) throws {
        let (key, path) = try Self.richVault(store)
        try Self.raw(path, edit.sql)
        let vault = try Vault.open(at: path, key: .key(key), actor: "test")
        let error = #expect(throws: SigilError.self) { try vault.snapshot() }
        #expect(error?.code == .catalogTampered)
        #expect(error?.reason.contains(edit.names) == true, "\(error?.reason ?? "no error")")
        #expect(error?.reason.contains("key") == true)
        let verification = try vault.verifyAudit()
        #expect(!verification.valid)
        #expect(verification.chainIntact)
        #expect(
            verification.catalogProblems.contains { $0.description.contains(edit.names) },
            "\(verification.catalogProblems)")
        // A later write through Sigil does not bless the change.
        try vault.setSecret(
            SecretTarget(
                owner: .principal(PrincipalRef(externalCredential: "Calendar", principal: "per-user")),
                field: "unrelated"), value: SecretBytes(utf8: "x"))
        #expect(throws: SigilError.self) { try Vault.open(at: path, key: .key(key), actor: "test").snapshot() }
    }

    @Test("a secret whose stage was swapped is refused when read on its own", arguments: TestStore.all)
    func stageSwapOnRead(store: TestStore) throws {
        let (key, path) = try Self.richVault(store)
        try Self.raw(path, Self.swapStages)
        let vault = try Vault.open(at: path, key: .key(key), actor: "test")
        let error = #expect(throws: SigilError.self) { try vault.secret(apiKeyTarget) }
        #expect(error?.code == .catalogTampered)
        #expect(
            error?.reason.contains("secret apiKey of principal Billing/billing-org, version 1 (current)") == true,
            "\(error?.reason ?? "")")
    }

    @Test(
        "the operator's own apply of an edited item mends it; accept-catalog vouches for the rest",
        arguments: TestStore.all)
    func repair(store: TestStore) throws {
        let (key, path) = try Self.richVault(store)
        try Self.raw(path, "UPDATE named_credentials SET url = 'https://evil.example/v1' WHERE name = 'Billing'")
        let vault = try Vault.open(at: path, key: .key(key), actor: "test")
        #expect(throws: SigilError.self) { try vault.snapshot() }
        // Re-applying the configuration rewrites the row with the operator's values.
        try vault.apply(ApplyRequest(catalog: exampleRequest().catalog))
        #expect(try vault.snapshot().catalog.namedCredential(named: "Billing")?.url == "https://api.billing.example/v1")
        #expect(try vault.verifyAudit().valid)

        // A deleted row cannot be put back by apply alone (the row set stays unauthenticated)...
        try Self.raw(path, "DELETE FROM grants WHERE user_id = \(Self.bob)")
        #expect(throws: SigilError.self) { try Vault.open(at: path, key: .key(key), actor: "test").snapshot() }
        // ...until the operator, having checked it, accepts the catalog as it stands (audited).
        let accepted = try vault.acceptCatalog().accepted
        #expect(accepted.map(\.table) == ["grants"])
        #expect(try vault.verifyAudit().valid)
        #expect(try vault.auditEntries(limit: 1).first?.action == "catalog.accept")
        #expect(
            try Vault.open(at: path, key: .key(key), actor: "test").snapshot().catalog.grant(
                for: PrincipalRef(externalCredential: "Billing", principal: "backup")) == nil)
    }

    @Test("an issued credential moved to another user is refused", arguments: TestStore.all)
    func issuedCredentialMoved(store: TestStore) throws {
        let (key, path) = try Self.richVault(store)
        let vault = try Vault.open(at: path, key: .key(key), actor: "test")
        let calendar = PrincipalRef(externalCredential: "Calendar", principal: "per-user")
        let aliceKey = IssuedCredentialKey(principal: calendar, user: "alice")
        guard
            case .granted(let lease) = try vault.acquireRefreshLease(aliceKey, kind: .oauth2, holder: "t", duration: 60)
        else {
            Issue.record("no lease")
            return
        }
        let credential = IssuedCredential(
            kind: .oauth2, fields: ["accessToken": SecretBytes(utf8: "alice-token")], obtainedAt: 1, expiresAt: nil)
        try vault.storeIssuedCredential(credential, parametersDigest: "d", under: lease)
        #expect(
            try vault.issuedCredential(aliceKey, kind: .oauth2, parametersDigest: "d")?.fields["accessToken"]
                == SecretBytes(utf8: "alice-token"))
        // Hand alice's token to bob.
        try Self.raw(path, "UPDATE issued_credentials SET user_id = \(Self.bob)")
        let error = #expect(throws: SigilError.self) {
            try vault.issuedCredential(
                IssuedCredentialKey(principal: calendar, user: "bob"), kind: .oauth2, parametersDigest: "d")
        }
        #expect(error?.code == .catalogTampered)
        #expect(
            error?.reason.contains("issued credential of principal Calendar/per-user for user bob") == true,
            "\(error?.reason ?? "")")
    }
}
