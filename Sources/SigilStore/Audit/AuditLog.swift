import Crypto
public import Foundation
import SigilCore
import SigilModel

/// One entry of the audit log: who changed what, when. Never a secret value.
public struct AuditEntry: Sendable, Codable, Hashable {
    public var seq: Int64
    public var at: String
    public var actor: String
    public var action: String
    public var target: String
    public var detail: [String: String]
}

/// Which audit entries to show: each set field must match.
public struct AuditFilter: Sendable, Hashable {
    /// Entries by this user, or made acting as them.
    public var user: String?
    /// Entries about this named or external credential (use records name both) or one of its
    /// principals (their secrets, authorizations and issued tokens).
    public var credential: String?
    public var since: Date?
    public var until: Date?
    /// An action (`use.sign`) or a family of them (`use`).
    public var action: String?
    /// Entries older than this sequence number (the next page of a paged list).
    public var before: Int64?

    public init(
        user: String? = nil, credential: String? = nil, since: Date? = nil, until: Date? = nil, action: String? = nil,
        before: Int64? = nil
    ) {
        self.before = before
        self.user = user
        self.credential = credential
        self.since = since
        self.until = until
        self.action = action
    }
}

/// One use of a credential through the service: who asked (user and authenticator), as whom, with
/// which named credential and principal, what request (method, host, path; never query values or
/// bodies), and how it ended.
public struct UseRecord: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case sign, presign, proxy
    }

    public var kind: Kind
    public var at: Date
    public var caller: String
    public var authenticator: String
    public var actingUser: String
    public var namedCredential: String?
    public var principal: String?
    public var method: String
    public var host: String
    public var path: String
    /// `ok`, an HTTP status (`status 200`, proxied calls), or an error code.
    public var outcome: String

    public init(
        kind: Kind, at: Date, caller: String, authenticator: String, actingUser: String, namedCredential: String?,
        principal: String?, method: String, host: String, path: String, outcome: String
    ) {
        self.kind = kind
        self.at = at
        self.caller = caller
        self.authenticator = authenticator
        self.actingUser = actingUser
        self.namedCredential = namedCredential
        self.principal = principal
        self.method = method
        self.host = host
        self.path = path
        self.outcome = outcome
    }
}

/// Where the audit chain ends, as one transaction appends to it: the last entry's sequence number
/// and MAC, and the active audit key that signs the next.
struct AuditChainEnd {
    let keyID: UInt32
    /// Keyed with the audit key, fed nothing.
    let mac: HMAC<SHA256>
    var seq: Int64
    var lastMAC: [UInt8]
}

/// The outcome of checking the audit chain and the catalog's authentication.
public struct AuditVerification: Sendable, Codable, Hashable {
    /// The chain is intact and the catalog authenticates.
    public var valid: Bool
    /// The chain alone is intact.
    public var chainIntact: Bool
    public var entries: Int
    /// The last entry's sequence number and MAC (hex): record it elsewhere to detect a later
    /// truncation of the log's tail, which the chain alone cannot show.
    public var headSeq: Int64
    public var headMAC: String
    /// Each break found, first first: `entry 7 was altered or moved`.
    public var problems: [String]
    /// What the catalog check found: rows changed, added or removed without the vault's key.
    public var catalogProblems: [CatalogProblem]
}

extension Vault {
    /// Appends an entry to the audit chain, inside the caller's transaction.
    ///
    /// `mac = HMAC-SHA256(auditKey, prev_mac || lp(seq) || lp(at) || lp(actor) || lp(action) ||
    /// lp(target) || lp(detail) || lp(key id))`, with `lp` a 4-byte big-endian length prefix and
    /// the first entry's `prev_mac` 32 zero bytes.
    /// `actor` and `at` default to this handle's actor and now; use records give their own.
    func audit(
        _ action: String, target: String, detail: [String: String], actor: String? = nil, at: String? = nil,
        _ db: any SQLConnection
    ) throws {
        var chain = try auditChainEnd(db)
        try append(action, target: target, detail: detail, actor: actor, at: at, to: &chain, db)
    }

    /// The audit chain's last entry and the active audit key, read once for the entries that one
    /// transaction appends (a batch of use records reads them once, not once per record).
    func auditChainEnd(_ db: any SQLConnection) throws -> AuditChainEnd {
        let keyID = try activeKeyID(purpose: "audit", db)
        let last = try db.row(sql: "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
        return AuditChainEnd(
            keyID: keyID, mac: try keyring.key(id: keyID).withUnsafeBytes { HMAC(key: SymmetricKey(data: $0)) },
            seq: last?["seq"] ?? 0,
            lastMAC: last.map { [UInt8]($0["mac"] as Data) } ?? [UInt8](repeating: 0, count: 32))
    }

    private func append(
        _ action: String, target: String, detail: [String: String], actor: String?, at: String?,
        to chain: inout AuditChainEnd, _ db: any SQLConnection
    ) throws {
        // PostgreSQL's text holds no NUL and its JSON no \u0000 (a caller's path may carry one): the
        // entry records U+FFFD in its place, the same on both stores.
        func withoutNUL(_ text: String) -> String {
            text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
        }
        let entry = AuditEntry(
            seq: chain.seq + 1, at: at ?? timestamp(), actor: withoutNUL(actor ?? self.actor), action: action,
            target: withoutNUL(target), detail: detail.mapValues(withoutNUL))
        let detailJSON = entry.detailJSON()
        let mac = Self.auditMAC(
            entry, detailJSON: detailJSON, keyID: chain.keyID, mac: chain.mac, previous: chain.lastMAC)
        try db.run(
            sql: """
                INSERT INTO audit_log (seq, at, actor, action, target, detail, key_id, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.seq, entry.at, entry.actor, entry.action, entry.target, detailJSON, chain.keyID,
                Data(chain.lastMAC), Data(mac),
            ])
        chain.seq = entry.seq
        chain.lastMAC = mac
    }

    /// The newest `limit` entries that match `filter`, oldest first.
    public func auditEntries(limit: Int = 100, matching filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: [(any SQLValueConvertible)?] = []
        if let user = filter.user {
            conditions.append("(actor = ? OR \(store.dialect.jsonText("detail", "actingUser")) = ?)")
            arguments += [user, user]
        }
        if let credential = filter.credential {
            conditions.append(
                "(target = ? OR target = ? OR \(store.dialect.jsonText("detail", "namedCredential")) = ? OR \(store.dialect.jsonText("detail", "principal")) LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\')"
            )
            let escaped = credential.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            arguments += [
                ItemRef.namedCredential(credential).description, ItemRef.externalCredential(credential).description,
                credential, escaped + "/%",
                // Its principals' entries: "principal EC/P", "authorization of user U for principal
                // EC/P", an issued credential's "EC/P for user U".
                "%principal " + escaped + "/%", escaped + "/%",
            ]
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            arguments.append(since.formatted(.iso8601))
        }
        if let until = filter.until {
            conditions.append("at < ?")
            arguments.append(until.formatted(.iso8601))
        }
        if let action = filter.action {
            conditions.append("(action = ? OR action LIKE ? ESCAPE '\\')")
            arguments += [action, action.replacingOccurrences(of: "_", with: "\\_") + ".%"]
        }
        if let before = filter.before {
            conditions.append("seq < ?")
            arguments.append(before)
        }
        let filterSQL = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try read { db in
            try db.rows(
                sql:
                    "SELECT * FROM (SELECT * FROM audit_log\(filterSQL) ORDER BY seq DESC LIMIT ?) AS recent ORDER BY seq",
                arguments: SQLArguments(arguments + [limit])
            )
            .map { try AuditEntry(row: $0) }
        }
    }

    /// Appends use records (a request signed, presigned or proxied through the service) to the
    /// audit chain, all in one transaction: the service writes them in small batches so that
    /// signing does not wait for one disk flush per request.
    public func recordUses(_ uses: [UseRecord]) throws {
        guard !uses.isEmpty else { return }
        try write(catalog: false) { db in
            var chain = try auditChainEnd(db)
            for use in uses {
                var detail = [
                    "authenticator": use.authenticator, "actingUser": use.actingUser, "method": use.method,
                    "host": use.host, "path": use.path, "outcome": use.outcome,
                ]
                detail["namedCredential"] = use.namedCredential
                detail["principal"] = use.principal
                try append(
                    "use.\(use.kind.rawValue)",
                    target: use.namedCredential.map { ItemRef.namedCredential($0).description } ?? "request",
                    detail: detail, actor: use.caller, at: use.at.formatted(.iso8601), to: &chain, db)
            }
        }
    }

    /// Recomputes the chain: every entry must follow the one before it (sequence numbers without
    /// gaps, `prev_mac` equal to the previous MAC) and carry the MAC of its own content (compared in
    /// constant time). Checks the catalog's MACs in the same read (``verifyCatalog()``).
    public func verifyAudit() throws -> AuditVerification {
        try read { db in
            var problems: [String] = []
            var expectedSeq: Int64 = 1
            var previous = [UInt8](repeating: 0, count: 32)
            var count = 0
            let rows = try db.rows(sql: "SELECT * FROM audit_log ORDER BY seq")
            for row in rows {
                count += 1
                let entry = try AuditEntry(row: row)
                let storedPrevious = [UInt8](row["prev_mac"] as Data)
                let stored = [UInt8](row["mac"] as Data)
                if entry.seq != expectedSeq {
                    problems.append(
                        entry.seq > expectedSeq
                            ? "entries \(expectedSeq) to \(entry.seq - 1) are missing"
                            : "entry \(entry.seq) is out of order")
                }
                if storedPrevious != previous {
                    problems.append(
                        "entry \(entry.seq) does not follow the entry before it (an entry was removed, inserted or reordered)"
                    )
                }
                let keyID: UInt32 = row["key_id"]
                try ensureKeyLoaded(keyID, db)
                let mac = try keyring.key(id: keyID).withUnsafeBytes { HMAC<SHA256>(key: SymmetricKey(data: $0)) }
                let computed = Self.auditMAC(
                    entry, detailJSON: row["detail"], keyID: keyID, mac: mac, previous: storedPrevious)
                if !computed.withUnsafeBytes({ a in stored.withUnsafeBytes { b in constantTimeEqual(a, b) } }) {
                    problems.append("entry \(entry.seq) was altered or moved")
                }
                previous = stored
                expectedSeq = entry.seq + 1
            }
            let catalogProblems = try catalogProblems(db)
            return AuditVerification(
                valid: problems.isEmpty && catalogProblems.isEmpty, chainIntact: problems.isEmpty, entries: count,
                headSeq: expectedSeq - 1,
                headMAC: previous.map { String(format: "%02x", $0) }.joined(), problems: problems,
                catalogProblems: catalogProblems
            )
        }
    }

    /// `mac`: an HMAC keyed with the audit key and fed nothing yet (copied, so one keyed state
    /// serves every entry of a batch).
    private static func auditMAC(
        _ entry: AuditEntry, detailJSON: String, keyID: UInt32, mac: HMAC<SHA256>, previous: [UInt8]
    ) -> [UInt8] {
        var message = previous
        for field in ["\(entry.seq)", entry.at, entry.actor, entry.action, entry.target, detailJSON, "\(keyID)"] {
            let bytes = Array(field.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message.append(contentsOf: $0) }
            message.append(contentsOf: bytes)
        }
        var mac = mac
        mac.update(data: message)
        return Array(mac.finalize())
    }
}

extension AuditEntry {
    init(row: SQLRow) throws {
        let detail: String = row["detail"]
        self.init(
            seq: row["seq"], at: row["at"], actor: row["actor"], action: row["action"], target: row["target"],
            detail: (try? JSONDecoder().decode([String: String].self, from: Data(detail.utf8))) ?? [
                "unreadable": detail
            ]
        )
    }

    /// `detail` as a JSON object with its keys in bytewise order (RFC 8259; `/` not escaped): the
    /// text that the entry's MAC covers and the store keeps.
    func detailJSON() -> String {
        let keys = detail.keys.sorted(by: JSON.precedes)
        let bound = keys.reduce(2) { $0 + JSON.stringBound($1) + JSON.stringBound(detail[$1]!) + 2 }
        return String(unsafeUninitializedCapacity: bound) { buffer in
            var writer = ByteWriter(buffer)
            writer.write(UInt8(ascii: "{"))
            for (index, key) in keys.enumerated() {
                if index > 0 { writer.write(UInt8(ascii: ",")) }
                writer.writeJSONString(key)
                writer.write(UInt8(ascii: ":"))
                writer.writeJSONString(detail[key]!)
            }
            writer.write(UInt8(ascii: "}"))
            return writer.count
        }
    }
}
