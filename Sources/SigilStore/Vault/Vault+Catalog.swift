import Foundation
import SigilCore
public import SigilModel

#if canImport(Glibc)
import Glibc
#endif

extension Vault {
    /// Everything the vault describes, without secret values.
    ///
    /// Read once and kept: a change through this handle is seen at once, a change by another
    /// handle or process within ``CatalogCache/revalidation`` (100 ms), when the kept copy is checked
    /// against SQLite's `data_version`. The signing engine reads the catalog on every request.
    public func catalog() throws -> Catalog {
        try snapshot().catalog
    }

    /// The catalog as kept (see ``catalog()``): the same snapshot object until it changes.
    /// With it, in the same read, which users have live authorizations of per-user principals.
    public func snapshot() throws -> CatalogSnapshot {
        try snapshotAndSecretsVersion().0
    }

    public func snapshotAndSecretsVersion() throws -> (CatalogSnapshot, secretsVersion: [UInt8]?) {
        let (snapshot, secrets) = try catalogCache.value(
            versions: { try read { db in try versions(db) } },
            read: {
                let read = try read { db in
                    // Refuse a catalog changed without the key before anything is taken from it.
                    try requireAuthenticCatalog(db)
                    let versions = try versions(db)
                    return (
                        CatalogSnapshot(
                            try readCatalog(db), authorizedUsers: try readAuthorizedUsers(db),
                            version: versions.catalog), versions.secrets
                    )
                }
                // Checking and reading a large catalog leaves tens of megabytes of freed rows in the
                // allocator's arenas; a long-running process hands them back rather than keeping them.
                Self.returnFreedMemory()
                return read
            })
        return (snapshot, secrets)
    }

    /// The catalog as stored, read now, whether or not it authenticates: for `apply`, which checks a
    /// file against it and rewrites (so mends) every item the file names. Never for signing.
    public func storedCatalog() throws -> Catalog {
        try read { db in try readCatalog(db) }
    }

    /// The users' authorizations of per-user principals.
    public func authorizations() throws -> [AuthorizationStatus] {
        try read { db in
            try db.rows(
                sql: """
                    SELECT a.id, e.name AS credential, p.name AS principal, u.name AS user, a.status, a.created_at, a.updated_at
                    FROM user_authorizations a JOIN principals p ON p.id = a.principal_id
                    JOIN external_credentials e ON e.id = p.external_credential_id JOIN users u ON u.id = a.user_id
                    ORDER BY e.name, p.name, u.name
                    """
            ).map { row in
                AuthorizationStatus(
                    principal: "\(row["credential"] as String)/\(row["principal"] as String)", user: row["user"],
                    status: row["status"],
                    createdAt: row["created_at"], updatedAt: row["updated_at"],
                    secrets: try secretStatuses(ownerKind: "authorization", ownerID: row["id"], db)
                )
            }
        }
    }

    func readCatalog(_ db: any SQLConnection) throws -> Catalog {
        var policies: [String: RotationPolicy] = [:]
        for row in try db.rows(sql: "SELECT owner_kind, owner_id, policy FROM rotation_policies") {
            policies["\(row["owner_kind"] as String) \(row["owner_id"] as Int64)"] = try JSONColumn.decodePolicy(
                row["policy"])
        }
        var principals: [Int64: [Principal]] = [:]
        for row in try db.rows(
            sql:
                "SELECT id, external_credential_id, name, type, sequence, parameters FROM principals ORDER BY external_credential_id, name"
        ) {
            principals[row["external_credential_id"], default: []].append(
                try decodePrincipal(row, rotation: policies["principal \(row["id"] as Int64)"]))
        }
        let externalCredentials = try db.rows(
            sql: "SELECT id, name, protocol, parameters, custom_headers FROM external_credentials ORDER BY id"
        ).map { row in
            try decodeExternalCredential(
                row, principals: principals[row["id"]] ?? [],
                rotation: policies["external-credential \(row["id"] as Int64)"])
        }
        let namedCredentials = try db.rows(
            sql: """
                SELECT n.*, e.name AS external_name FROM named_credentials n JOIN external_credentials e ON e.id = n.external_credential_id
                ORDER BY n.id
                """
        ).map { row in try decodeNamedCredential(row, externalCredential: row["external_name"]) }
        var memberships: [String: [String]] = [:]
        for row in try db.rows(
            sql: """
                SELECT u.name AS user, g.name AS grp FROM group_members m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id
                ORDER BY m.group_id, m.user_id
                """)
        {
            memberships[row["user"], default: []].append(row["grp"])
        }
        let users = try db.values(String.self, sql: "SELECT name FROM users ORDER BY name").map {
            User(name: $0, groups: memberships[$0] ?? [])
        }
        let groups = try db.values(String.self, sql: "SELECT name FROM groups ORDER BY name")
        var grants: [PrincipalRef: [GrantSubject]] = [:]
        for row in try db.rows(
            sql: """
                SELECT e.name AS credential, p.name AS principal, u.name AS user, g.name AS grp
                FROM grants x JOIN principals p ON p.id = x.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                LEFT JOIN users u ON u.id = x.user_id LEFT JOIN groups g ON g.id = x.group_id
                ORDER BY x.id
                """)
        {
            let reference = PrincipalRef(externalCredential: row["credential"], principal: row["principal"])
            let subject: GrantSubject = (row["user"] as String?).map(GrantSubject.user) ?? .group(row["grp"])
            grants[reference, default: []].append(subject)
        }
        let roles = try db.rows(
            sql: """
                SELECT r.role, r.act_as, u.name AS user, g.name AS grp FROM role_grants r
                LEFT JOIN users u ON u.id = r.user_id LEFT JOIN groups g ON g.id = r.group_id
                ORDER BY r.id
                """
        ).map { row in
            RoleGrant(
                role: try decodeEnum(row["role"]),
                subject: (row["user"] as String?).map(GrantSubject.user) ?? .group(row["grp"]), actAs: row["act_as"])
        }
        let service = try (db.value(String.self, sql: "SELECT settings FROM service_settings WHERE id = 1")).map {
            try JSONDecoder().decode(ServiceSettings.self, from: Data($0.utf8))
        }
        return Catalog(
            externalCredentials: externalCredentials, namedCredentials: namedCredentials, users: users, groups: groups,
            grants: grants.map { Grant(principal: $0.key, subjects: $0.value) }, roles: roles.isEmpty ? nil : roles,
            service: service
        )
    }

    /// glibc's `malloc_trim(0)` (looked up at run time: it is not in the Glibc module, and other C
    /// libraries lack it), which returns freed heap memory to the system.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    static func returnFreedMemory() {
        _ = mallocTrim?(0)
    }

    func decodePrincipal(_ row: SQLRow, rotation: RotationPolicy?) throws -> Principal {
        Principal(
            name: row["name"], type: try decodeEnum(row["type"]), sequence: row["sequence"],
            parameters: try JSONColumn.decodeParameters(row["parameters"]), rotation: rotation)
    }

    func decodeExternalCredential(_ row: SQLRow, principals: [Principal], rotation: RotationPolicy?) throws
        -> ExternalCredential
    {
        ExternalCredential(
            name: row["name"], authProtocol: try decodeEnum(row["protocol"]),
            parameters: try JSONColumn.decodeParameters(row["parameters"]),
            customHeaders: try JSONColumn.decodeHeaders(row["custom_headers"]), principals: principals,
            rotation: rotation)
    }

    func decodeNamedCredential(_ row: SQLRow, externalCredential: String) throws -> NamedCredential {
        NamedCredential(
            name: row["name"], url: row["url"], externalCredential: externalCredential,
            generateAuthorizationHeader: row["generate_authorization_header"],
            allowMergeFieldsInHeader: row["allow_merge_fields_in_header"],
            allowMergeFieldsInBody: row["allow_merge_fields_in_body"],
            customHeaders: try JSONColumn.decodeHeaders(row["custom_headers"]),
            clientCertificate: row["client_certificate"],
            trust: try (row["trust"] as String?).map(JSONColumn.decodeTrust))
    }

    private func decodeEnum<T: RawRepresentable>(_ raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw SigilError(.storage, "vault \(path) holds an unknown \(T.self) \"\(raw.sanitizedForMessage)\"")
        }
        return value
    }
}

/// One user's authorization of a per-user principal, as `sigil list` shows it.
public struct AuthorizationStatus: Sendable, Codable, Hashable {
    public var principal: String
    public var user: String
    public var status: String
    public var createdAt: String
    public var updatedAt: String
    public var secrets: [SecretStatus]
}

/// The JSON forms of parameter maps and header lists in their columns.
enum JSONColumn {
    static func encode(_ parameters: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(parameters), as: UTF8.self)
    }

    static func encode(_ headers: [CustomHeader]) throws -> String {
        String(decoding: try JSONEncoder().encode(headers.map { [$0.name, $0.value] }), as: UTF8.self)
    }

    private struct TrustJSON: Codable {
        var caBundle: String?
        var pins: [String]?
    }

    static func encode(_ trust: NamedCredential.Trust) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(
            decoding: try encoder.encode(
                TrustJSON(caBundle: trust.caBundle, pins: trust.pins.isEmpty ? nil : trust.pins)), as: UTF8.self)
    }

    static func decodeTrust(_ json: String) throws -> NamedCredential.Trust {
        let value = try JSONDecoder().decode(TrustJSON.self, from: Data(json.utf8))
        return NamedCredential.Trust(caBundle: value.caBundle, pins: value.pins ?? [])
    }

    static func encode(_ policy: RotationPolicy) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(policy), as: UTF8.self)
    }

    static func decodePolicy(_ json: String) throws -> RotationPolicy {
        try JSONDecoder().decode(RotationPolicy.self, from: Data(json.utf8))
    }

    static func decodeParameters(_ json: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }

    static func decodeHeaders(_ json: String) throws -> [CustomHeader] {
        try JSONDecoder().decode([[String]].self, from: Data(json.utf8)).map { pair in
            guard pair.count == 2 else {
                throw SigilError(.storage, "a stored custom header is not a name and a value")
            }
            return CustomHeader(name: pair[0], value: pair[1])
        }
    }
}
