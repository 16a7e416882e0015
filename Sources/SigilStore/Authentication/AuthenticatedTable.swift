import SigilModel

/// A table whose rows the vault authenticates (schema `004_catalog_macs`): which columns a row's MAC
/// covers, and how a message names a row.
///
/// A row's MAC covers its key (the `id`, which other rows reference and sealed blobs bind) and every
/// column that decides where a credential goes, who may use it, or which value is current. Columns
/// left out only record when something happened (`created_at`, `updated_at`) or, for issued
/// credentials, coordinate refreshers (`fence`, `lease_*`, `last_error*`); sealed values are bound by
/// their own additional data (SECURITY.md).
struct AuthenticatedTable: Sendable, Hashable {
    let name: String
    /// The row key, then the authenticated columns: what the MAC covers, in this order.
    let columns: [String]
    /// Whether `catalog_tables` holds a MAC over the table's rows, so that rows added or removed
    /// are found (every table but the issued-credential cache).
    let hasRowSetMAC: Bool
    /// The key's columns (ORDER BY for the row-set MAC, WHERE for one row).
    let key: [String]
    /// The integer column whose value, divided by 256, is a row's bucket (schema
    /// `008_catalog_buckets`): the key's first column, or one that keeps a bucket small where that
    /// one does not (a group's memberships go by user).
    let bucketColumn: String
    /// Extra columns for messages: `SELECT ... AS label_*` expressions over the row aliased `t`.
    let labelColumns: String
    /// `principal Billing/billing-org (row 3)`, from a row with the columns above.
    let describe: @Sendable (SQLRow) -> String
    /// ``selectSQL(where:labels:)`` for one row by its key, made once.
    let selectOneSQL: String
    /// `UPDATE ... SET mac = ? WHERE` the key, made once.
    let updateMACSQL: String

    init(
        name: String, columns: [String], hasRowSetMAC: Bool, key: [String], bucketColumn: String? = nil,
        labelColumns: String, describe: @escaping @Sendable (SQLRow) -> String
    ) {
        self.bucketColumn = bucketColumn ?? key[0]
        self.name = name
        self.columns = columns
        self.hasRowSetMAC = hasRowSetMAC
        self.key = key
        self.labelColumns = labelColumns
        self.describe = describe
        let keyFilter = key.map { "\($0) = ?" }.joined(separator: " AND ")
        selectOneSQL = "SELECT " + (columns + ["mac"]).joined(separator: ", ") + " FROM \(name) WHERE \(keyFilter)"
        updateMACSQL = "UPDATE \(name) SET mac = ? WHERE \(keyFilter)"
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.name == rhs.name }
    func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// The statement that reads every row (or those matching `filter`) for their MACs, with the
    /// expressions `extra` (over the row aliased `t`), and with `labels` what messages name them by.
    func selectSQL(where filter: String? = nil, labels withLabels: Bool = false, extra: [String] = []) -> String {
        let list = ((columns + ["mac"]).map { "t.\($0)" } + extra).joined(separator: ", ")
        let labels = labelColumns.isEmpty || !withLabels ? "" : ", " + labelColumns
        return "SELECT \(list)\(labels) FROM \(name) t" + (filter.map { " WHERE \($0)" } ?? "") + " ORDER BY "
            + key.map { "t.\($0)" }.joined(separator: ", ")
    }
}

extension AuthenticatedTable {
    private static func text(_ row: SQLRow, _ column: String) -> String {
        (row[column] as String?)?.sanitizedForMessage ?? "?"
    }

    private static func id(_ row: SQLRow) -> String { "row \(row["id"] as Int64? ?? 0)" }

    static let externalCredentials = AuthenticatedTable(
        name: "external_credentials", columns: ["id", "name", "protocol", "parameters", "custom_headers"],
        hasRowSetMAC: true,
        key: ["id"], labelColumns: "",
        describe: { "external credential \(text($0, "name")) (\(id($0)))" }
    )
    static let principals = AuthenticatedTable(
        name: "principals", columns: ["id", "external_credential_id", "name", "type", "sequence", "parameters"],
        hasRowSetMAC: true,
        key: ["id"],
        labelColumns:
            "(SELECT name FROM external_credentials e WHERE e.id = t.external_credential_id) AS label_credential",
        describe: { "principal \(text($0, "label_credential"))/\(text($0, "name")) (\(id($0)))" }
    )
    static let namedCredentials = AuthenticatedTable(
        name: "named_credentials",
        columns: [
            "id", "name", "url", "external_credential_id", "generate_authorization_header",
            "allow_merge_fields_in_header",
            "allow_merge_fields_in_body", "custom_headers", "client_certificate", "trust",
        ],
        hasRowSetMAC: true, key: ["id"], labelColumns: "",
        describe: { "named credential \(text($0, "name")) (\(id($0)))" }
    )
    static let users = AuthenticatedTable(
        name: "users", columns: ["id", "name"], hasRowSetMAC: true, key: ["id"], labelColumns: "",
        describe: { "user \(text($0, "name")) (\(id($0)))" }
    )
    static let groups = AuthenticatedTable(
        name: "groups", columns: ["id", "name"], hasRowSetMAC: true, key: ["id"], labelColumns: "",
        describe: { "group \(text($0, "name")) (\(id($0)))" }
    )
    static let groupMembers = AuthenticatedTable(
        name: "group_members", columns: ["group_id", "user_id"], hasRowSetMAC: true, key: ["group_id", "user_id"],
        // By user: one group may hold every user, and a request reads one user's memberships.
        bucketColumn: "user_id",
        labelColumns:
            "(SELECT name FROM users u WHERE u.id = t.user_id) AS label_user, (SELECT name FROM groups g WHERE g.id = t.group_id) AS label_group",
        describe: { "membership of user \(text($0, "label_user")) in group \(text($0, "label_group"))" }
    )
    static let grants = AuthenticatedTable(
        name: "grants", columns: ["id", "principal_id", "user_id", "group_id"], hasRowSetMAC: true, key: ["id"],
        labelColumns: """
            (SELECT e.name || '/' || p.name FROM principals p JOIN external_credentials e ON e.id = p.external_credential_id WHERE p.id = t.principal_id) AS label_principal,
            coalesce('user:' || (SELECT name FROM users u WHERE u.id = t.user_id), 'group:' || (SELECT name FROM groups g WHERE g.id = t.group_id)) AS label_subject
            """,
        describe: { "grant of principal \(text($0, "label_principal")) to \(text($0, "label_subject")) (\(id($0)))" }
    )
    static let userAuthorizations = AuthenticatedTable(
        name: "user_authorizations", columns: ["id", "principal_id", "user_id", "status"], hasRowSetMAC: true,
        key: ["id"],
        labelColumns: """
            (SELECT e.name || '/' || p.name FROM principals p JOIN external_credentials e ON e.id = p.external_credential_id WHERE p.id = t.principal_id) AS label_principal,
            (SELECT name FROM users u WHERE u.id = t.user_id) AS label_user
            """,
        describe: {
            "authorization of principal \(text($0, "label_principal")) by user \(text($0, "label_user")) (\(id($0)))"
        }
    )
    static let secrets = AuthenticatedTable(
        name: "secrets", columns: ["id", "owner_kind", "owner_id", "field", "version", "stage"], hasRowSetMAC: true,
        key: ["id"],
        labelColumns: """
            CASE t.owner_kind
                WHEN 'principal' THEN 'principal ' || (SELECT e.name || '/' || p.name FROM principals p
                    JOIN external_credentials e ON e.id = p.external_credential_id WHERE p.id = t.owner_id)
                WHEN 'authorization' THEN 'authorization of principal ' || (SELECT e.name || '/' || p.name || ' by user ' || u.name
                    FROM user_authorizations a JOIN principals p ON p.id = a.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                    JOIN users u ON u.id = a.user_id WHERE a.id = t.owner_id)
                WHEN 'named-credential' THEN 'named credential ' || (SELECT name FROM named_credentials n WHERE n.id = t.owner_id)
            END AS label_owner
            """,
        describe: { row in
            "secret \(text(row, "field")) of \(text(row, "label_owner")), version \(row["version"] as Int64? ?? 0) (\(text(row, "stage"))) (\(id(row)))"
        }
    )
    static let issuedCredentials = AuthenticatedTable(
        name: "issued_credentials",
        columns: ["id", "principal_id", "user_id", "kind", "parameters_digest", "written_fence"],
        hasRowSetMAC: false, key: ["id"],
        labelColumns: """
            (SELECT e.name || '/' || p.name FROM principals p JOIN external_credentials e ON e.id = p.external_credential_id WHERE p.id = t.principal_id) AS label_principal,
            (SELECT name FROM users u WHERE u.id = t.user_id) AS label_user
            """,
        describe: { row in
            "issued credential of principal \(text(row, "label_principal"))"
                + ((row["label_user"] as String?).map { " for user \($0.sanitizedForMessage)" } ?? "") + " (\(id(row)))"
        }
    )

    static let userPasswords = AuthenticatedTable(
        name: "user_passwords", columns: ["user_id", "hash"], hasRowSetMAC: true, key: ["user_id"],
        labelColumns: "(SELECT name FROM users u WHERE u.id = t.user_id) AS label_user",
        describe: { "password of user \(text($0, "label_user"))" }
    )
    static let apiKeys = AuthenticatedTable(
        name: "api_keys", columns: ["id", "key_id", "user_id", "hash", "expires_at", "revoked_at"], hasRowSetMAC: true,
        key: ["id"], labelColumns: "(SELECT name FROM users u WHERE u.id = t.user_id) AS label_user",
        describe: { "API key \(text($0, "key_id")) of user \(text($0, "label_user")) (\(id($0)))" }
    )
    static let roleGrants = AuthenticatedTable(
        name: "role_grants", columns: ["id", "role", "user_id", "group_id", "act_as"], hasRowSetMAC: true, key: ["id"],
        labelColumns: """
            coalesce('user:' || (SELECT name FROM users u WHERE u.id = t.user_id), 'group:' || (SELECT name FROM groups g WHERE g.id = t.group_id)) AS label_subject
            """,
        describe: { "role \(text($0, "role")) of \(text($0, "label_subject")) (\(id($0)))" }
    )
    static let serviceSettings = AuthenticatedTable(
        name: "service_settings", columns: ["id", "settings"], hasRowSetMAC: true, key: ["id"], labelColumns: "",
        describe: { _ in "the service settings" }
    )

    static let rotations = AuthenticatedTable(
        name: "rotations", columns: ["id", "owner_kind", "owner_id", "fields", "rotator", "step", "finished_at"],
        hasRowSetMAC: true, key: ["id"],
        labelColumns: """
            CASE t.owner_kind
                WHEN 'principal' THEN 'principal ' || (SELECT e.name || '/' || p.name FROM principals p
                    JOIN external_credentials e ON e.id = p.external_credential_id WHERE p.id = t.owner_id)
                WHEN 'authorization' THEN 'authorization of principal ' || (SELECT e.name || '/' || p.name || ' by user ' || u.name
                    FROM user_authorizations a JOIN principals p ON p.id = a.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                    JOIN users u ON u.id = a.user_id WHERE a.id = t.owner_id)
                WHEN 'named-credential' THEN 'named credential ' || (SELECT name FROM named_credentials n WHERE n.id = t.owner_id)
            END AS label_owner
            """,
        describe: { row in "rotation of \(text(row, "label_owner")) (\(text(row, "step"))) (\(id(row)))" }
    )

    static let rotationPolicies = AuthenticatedTable(
        name: "rotation_policies", columns: ["id", "owner_kind", "owner_id", "policy"], hasRowSetMAC: true,
        key: ["id"],
        labelColumns: """
            CASE t.owner_kind
                WHEN 'external-credential' THEN 'external credential ' || (SELECT name FROM external_credentials e WHERE e.id = t.owner_id)
                WHEN 'principal' THEN 'principal ' || (SELECT e.name || '/' || p.name FROM principals p
                    JOIN external_credentials e ON e.id = p.external_credential_id WHERE p.id = t.owner_id)
            END AS label_owner
            """,
        describe: { "rotation policy of \(text($0, "label_owner")) (\(id($0)))" }
    )

    /// The tables that schema 006 adds (rotations and their policies).
    static let rotationTables: [AuthenticatedTable] = [rotations, rotationPolicies]

    /// The tables that schema 005 adds (the service's callers and roles).
    static let service: [AuthenticatedTable] = [userPasswords, apiKeys, roleGrants, serviceSettings]

    /// The catalog's tables, in the order they are checked and reported.
    static let catalog: [AuthenticatedTable] =
        [
            externalCredentials, principals, namedCredentials, users, groups, groupMembers, grants, userAuthorizations,
            secrets,
        ] + service + rotationTables
}
