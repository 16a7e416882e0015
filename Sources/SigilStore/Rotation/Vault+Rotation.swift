public import Foundation
public import SigilCore
public import SigilModel

/// Where an owner's latest rotation stands (schema `006_rotations`): never a value.
public struct RotationState: Sendable, Codable, Hashable {
    /// The steps of a rotation, in the order they are taken; `rolled-back` ends one at any point.
    public enum Step: String, Sendable, Codable, Hashable, CaseIterable {
        /// New values are `pending`; nothing signs with them yet.
        case started
        /// The pending values worked for real.
        case tested
        /// The pending values are `current`; the old ones `previous`, kept for the grace period.
        case finished
        /// The rotation was undone: `current` is what it was before.
        case rolledBack = "rolled-back"
        /// The previous values are deleted: the rotation is complete.
        case cleaned
    }

    /// `principal Billing/billing-org`, as ``SecretOwner`` describes it.
    public var owner: String
    public var fields: [String]
    /// How the new values were made: `supplied` or `generated`.
    public var rotator: String
    public var step: Step
    public var startedAt: String
    public var testedAt: String?
    public var finishedAt: String?
    /// Why the last test failed, until one passes.
    public var lastError: String?

    /// Whether a rotation is under way (started or tested, not yet finished).
    public var inProgress: Bool { step == .started || step == .tested }
}

/// The right to take an owner's rotation steps, granted to one process at a time (schema
/// `007_rotation_leases`); `fence` is never granted twice.
public struct RotationLease: Sendable, Hashable {
    public let owner: SecretOwner
    public let fence: Int64
    public let holder: String
    /// Unix seconds.
    public let until: Int64
}

/// What ``Vault/acquireRotationLease(_:holder:duration:takingOverFrom:)`` found.
public enum RotationLeaseOutcome: Sendable, Hashable {
    case granted(RotationLease)
    /// Another holder's lease is live until `until` (Unix seconds).
    case held(holder: String, until: Int64)

    /// The lease, when granted.
    public var lease: RotationLease? {
        if case .granted(let lease) = self { lease } else { nil }
    }
}

extension SigilError.Code {
    /// A rotation step cannot be taken now (another one is in progress, the test has not passed,
    /// the previous value is gone): the message says which step comes next.
    public static let rotationState = Self("rotation-state")
}

extension Vault {
    /// Grants the rotation lease of `owner` to `holder` for `duration` seconds, unless another
    /// holder's lease is still live (then `.held`, naming it). `takingOverFrom` names a holder known
    /// to be gone (a process of this machine that no longer runs): its live lease is taken over.
    /// Each grant raises the fence.
    public func acquireRotationLease(
        _ owner: SecretOwner, holder: String, duration: Int64, takingOverFrom gone: String? = nil
    ) throws -> RotationLeaseOutcome {
        try write(catalog: false) { db in
            guard let location = try ownerRow(owner, db, createAuthorization: false) else {
                throw SigilError(.notFound, "\(owner) does not exist")
            }
            let now = Int64(clock().timeIntervalSince1970)
            try db.execute(
                sql: "INSERT INTO rotation_leases (owner_kind, owner_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                arguments: [location.kind, location.id])
            let row = try db.row(
                sql: "SELECT * FROM rotation_leases WHERE owner_kind = ? AND owner_id = ?",
                arguments: [location.kind, location.id])!
            if let until = row["lease_until"] as Int64?, until > now, let current = row["lease_holder"] as String?,
                current != holder, current != gone
            {
                return .held(holder: current, until: until)
            }
            let fence = (row["fence"] as Int64) + 1
            try db.execute(
                sql:
                    "UPDATE rotation_leases SET fence = ?, lease_holder = ?, lease_until = ? WHERE owner_kind = ? AND owner_id = ?",
                arguments: [fence, holder, now + duration, location.kind, location.id])
            return .granted(RotationLease(owner: owner, fence: fence, holder: holder, until: now + duration))
        }
    }

    /// Gives up `lease` (nothing happens when a newer one was granted since).
    public func releaseRotationLease(_ lease: RotationLease) throws {
        try write(catalog: false) { db in
            guard let location = try ownerRow(lease.owner, db, createAuthorization: false) else { return }
            try db.execute(
                sql: """
                    UPDATE rotation_leases SET lease_holder = NULL, lease_until = NULL
                    WHERE owner_kind = ? AND owner_id = ? AND fence = ?
                    """, arguments: [location.kind, location.id, lease.fence])
        }
    }

    /// Refuses a step of `owner`'s rotation when this handle holds a rotation lease of it that is
    /// no longer the newest (another holder took over).
    private func checkRotationFence(_ owner: SecretOwner, _ db: any SQLConnection) throws {
        guard let lease = rotationLease, lease.owner == owner,
            let location = try ownerRow(owner, db, createAuthorization: false)
        else { return }
        let fence = try db.value(
            Int64.self, sql: "SELECT fence FROM rotation_leases WHERE owner_kind = ? AND owner_id = ?",
            arguments: [location.kind, location.id])
        guard fence == lease.fence else {
            throw SigilError(
                .rotationState,
                "\(owner): this process's rotation lease (fence \(lease.fence)) was taken over by another; it takes no step"
            )
        }
    }

    /// The latest rotation of `owner`'s secrets, or `nil` when none was started.
    public func rotation(of owner: SecretOwner) throws -> RotationState? {
        try read { db in
            guard let row = try rotationRow(owner, db) else { return nil }
            return try rotationState(row, owner: owner)
        }
    }

    /// Starts a rotation of `owner`: `values` become the `pending` versions of their fields, in one
    /// transaction with the rotation's record. Starting again with the same values while the
    /// rotation has not finished changes nothing (`false`); other values while one is in progress
    /// are refused (roll it back first). After a finished, cleaned or rolled-back one, a new
    /// rotation begins.
    @discardableResult
    public func startRotation(_ owner: SecretOwner, values: [String: SecretBytes], rotator: String) throws -> Bool {
        guard !values.isEmpty else {
            throw SigilError(.invalidSecretTarget, "\(owner): a rotation needs at least one new value")
        }
        let fields = values.keys.sorted()
        return try write { db in
            try checkRotationFence(owner, db)
            if let row = try rotationRow(owner, db), let state = try? rotationState(row, owner: owner),
                state.inProgress
            {
                let same =
                    try state.fields == fields
                    && fields.allSatisfy { field in
                        try secret(SecretTarget(owner: owner, field: field), stage: .pending, db) == values[field]
                    }
                if same { return false }
                throw SigilError(
                    .rotationState,
                    "\(owner): a rotation of \(state.fields.joined(separator: ", ")) is in progress (\(state.step.rawValue)); finish or roll it back first"
                )
            }
            for field in fields {
                let target = SecretTarget(owner: owner, field: field)
                guard try secret(target, stage: .current, db) != nil else {
                    throw SigilError(
                        .rotationState,
                        "\(target) has no current value to rotate; set it with `sigil secret set` first")
                }
                _ = try setSecret(target, value: values[field]!, stage: .pending, db)
            }
            try insertRotationRow(owner, fields: fields, rotator: rotator, db)
            return true
        }
    }

    /// Records the outcome of testing the pending values: `error` `nil` is a pass (the rotation is
    /// `tested`), otherwise the rotation stays `started` with `error` as its last error. `false`
    /// when there is nothing to test (no rotation in progress).
    @discardableResult
    public func recordRotationTest(_ owner: SecretOwner, error: String?) throws -> Bool {
        try write { db in
            try checkRotationFence(owner, db)
            guard let row = try rotationRow(owner, db), try rotationState(row, owner: owner).inProgress else {
                return false
            }
            let id: Int64 = row["id"]
            let now = timestamp()
            try db.run(
                sql: """
                    UPDATE rotations SET step = ?, tested_at = ?, last_error = ?, updated_at = ? WHERE id = ?
                    """, arguments: [error == nil ? "tested" : "started", error == nil ? now : nil, error, now, id])
            try authenticateRow(.rotations, id: id, db)
            try audit(
                error == nil ? "rotation.test" : "rotation.test-failed", target: owner.description,
                detail: error.map { ["error": String($0.prefix(300))] } ?? [:], db)
            return true
        }
    }

    /// Finishes the rotation: for every field rotated, in one transaction, `pending` becomes
    /// `current` and `current` becomes `previous` (the older `previous` is deleted), so no reader
    /// sees a mix of old and new values. Needs a passed test; `false` when it already finished.
    @discardableResult
    public func finishRotation(_ owner: SecretOwner) throws -> Bool {
        try write { db in
            try checkRotationFence(owner, db)
            let (row, state) = try requireRotation(owner, db)
            switch state.step {
            case .finished, .cleaned: return false
            case .rolledBack:
                throw SigilError(.rotationState, "\(owner): the rotation was rolled back; start a new one")
            case .started:
                throw SigilError(
                    .rotationState,
                    "\(owner): the pending value has not passed its test\(state.lastError.map { " (last test: \($0))" } ?? ""); run `sigil rotate test` first"
                )
            case .tested: break
            }
            let location = try rotationLocation(row)
            for field in state.fields {
                let scope: SQLArguments = [location.kind, location.id, field]
                let where_ = "owner_kind = ? AND owner_id = ? AND field = ?"
                guard
                    try db.value(
                        Int.self, sql: "SELECT count(*) FROM secrets WHERE \(where_) AND stage = 'pending'",
                        arguments: scope) == 1
                else {
                    throw SigilError(
                        .rotationState, "\(owner): \(field) has no pending value any more; start the rotation again")
                }
                try db.run(sql: "DELETE FROM secrets WHERE \(where_) AND stage = 'previous'", arguments: scope)
                try db.run(
                    sql: "UPDATE secrets SET stage = 'previous' WHERE \(where_) AND stage = 'current'", arguments: scope
                )
                try db.run(
                    sql: "UPDATE secrets SET stage = 'current' WHERE \(where_) AND stage = 'pending'", arguments: scope)
                try authenticateRows(
                    .secrets, where: "t.owner_kind = ? AND t.owner_id = ? AND t.field = ?", scope, db)
            }
            try setRotationStep(row, .finished, finishedAt: timestamp(), db)
            try audit(
                "rotation.finish", target: owner.description,
                detail: ["fields": state.fields.joined(separator: ","), "rotator": state.rotator], db)
            return true
        }
    }

    /// Rolls the rotation back: before it finished, the pending values are deleted; after, the
    /// `previous` values become `current` again in one transaction (the new ones are deleted).
    /// `false` when there is nothing to roll back (already rolled back). A cleaned rotation cannot
    /// be rolled back: its previous values are gone.
    @discardableResult
    public func rollBackRotation(_ owner: SecretOwner) throws -> Bool {
        try write { db in
            try checkRotationFence(owner, db)
            let (row, state) = try requireRotation(owner, db)
            let location = try rotationLocation(row)
            switch state.step {
            case .rolledBack: return false
            case .cleaned:
                throw SigilError(
                    .rotationState, "\(owner): the rotation was cleaned up; its previous values are deleted")
            case .started, .tested:
                for field in state.fields {
                    try db.run(
                        sql:
                            "DELETE FROM secrets WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = 'pending'",
                        arguments: [location.kind, location.id, field])
                }
            case .finished:
                for field in state.fields {
                    let scope: SQLArguments = [location.kind, location.id, field]
                    let where_ = "owner_kind = ? AND owner_id = ? AND field = ?"
                    guard
                        try db.value(
                            Int.self, sql: "SELECT count(*) FROM secrets WHERE \(where_) AND stage = 'previous'",
                            arguments: scope) == 1
                    else {
                        throw SigilError(
                            .rotationState, "\(owner): \(field) has no previous value any more; nothing to roll back to"
                        )
                    }
                    try db.run(sql: "DELETE FROM secrets WHERE \(where_) AND stage = 'current'", arguments: scope)
                    try db.run(
                        sql: "UPDATE secrets SET stage = 'current' WHERE \(where_) AND stage = 'previous'",
                        arguments: scope)
                    try authenticateRows(
                        .secrets, where: "t.owner_kind = ? AND t.owner_id = ? AND t.field = ?", scope, db)
                }
            }
            try setRotationStep(row, .rolledBack, finishedAt: row["finished_at"], db)
            try audit(
                "rotation.rollback", target: owner.description, detail: ["from": state.step.rawValue], db)
            return true
        }
    }

    /// Cleans up a finished rotation whose grace period has passed (`finishedBefore`): the
    /// `previous` values are deleted. `false` when it is not finished, or finished after
    /// `finishedBefore` (still in its grace period), or already cleaned.
    @discardableResult
    public func cleanUpRotation(_ owner: SecretOwner, finishedBefore: Date) throws -> Bool {
        try write { db in
            try checkRotationFence(owner, db)
            let (row, state) = try requireRotation(owner, db)
            guard state.step == .finished, let finished = state.finishedAt,
                let finishedAt = try? Date(finished, strategy: .iso8601), finishedAt <= finishedBefore
            else { return false }
            let location = try rotationLocation(row)
            for field in state.fields {
                try db.run(
                    sql:
                        "DELETE FROM secrets WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = 'previous'",
                    arguments: [location.kind, location.id, field])
            }
            try setRotationStep(row, .cleaned, finishedAt: finished, db)
            try audit("rotation.clean-up", target: owner.description, detail: [:], db)
            return true
        }
    }

    /// Begins a rotation whose new values a provider makes (``stageRotation(_:values:)`` stores
    /// them once made): the rotation is `started` with no pending value, which records that the
    /// provider was asked, and when, so that a start cut short between the provider's answer and
    /// the vault can find what the provider made. Returns when the rotation was started (that of
    /// the one in progress, when one is).
    public func beginRotation(_ owner: SecretOwner, fields: [String], rotator: String) throws -> String {
        let fields = fields.sorted()
        return try write { db in
            try checkRotationFence(owner, db)
            if let row = try rotationRow(owner, db), let state = try? rotationState(row, owner: owner),
                state.inProgress
            {
                guard state.fields == fields, state.rotator == rotator else {
                    throw SigilError(
                        .rotationState,
                        "\(owner): a rotation of \(state.fields.joined(separator: ", ")) is in progress (\(state.step.rawValue)); finish or roll it back first"
                    )
                }
                return state.startedAt
            }
            for field in fields where try secret(SecretTarget(owner: owner, field: field), stage: .current, db) == nil {
                throw SigilError(
                    .rotationState,
                    "\(SecretTarget(owner: owner, field: field)) has no current value to rotate; set it with `sigil secret set` first"
                )
            }
            try insertRotationRow(owner, fields: fields, rotator: rotator, db)
            return try rotationState(try rotationRow(owner, db)!, owner: owner).startedAt
        }
    }

    /// Stores the values a provider made for the rotation ``beginRotation(_:fields:rotator:)``
    /// began, as `pending`, in one transaction. `false` when they are stored already.
    @discardableResult
    public func stageRotation(_ owner: SecretOwner, values: [String: SecretBytes]) throws -> Bool {
        try write { db in
            try checkRotationFence(owner, db)
            let (row, state) = try requireRotation(owner, db)
            guard state.step == .started, state.fields == values.keys.sorted() else {
                throw SigilError(
                    .rotationState,
                    "\(owner): the rotation is \(state.step.rawValue); its new values cannot be stored now")
            }
            var changed = false
            for (field, value) in values {
                let target = SecretTarget(owner: owner, field: field)
                if try secret(target, stage: .pending, db) == value { continue }
                _ = try setSecret(target, value: value, stage: .pending, db)
                changed = true
            }
            if changed {
                try setRotationStep(row, .started, finishedAt: nil, db)
                try audit(
                    "rotation.stage", target: owner.description,
                    detail: ["fields": state.fields.joined(separator: ","), "rotator": state.rotator], db)
            }
            return changed
        }
    }

    /// Records what a rotator did at the provider (`rotation.provider-retire`...) in the audit log;
    /// `detail` must hold no secret.
    public func recordRotationEvent(_ action: String, owner: SecretOwner, detail: [String: String]) throws {
        try write(catalog: false) { db in try audit(action, target: owner.description, detail: detail, db) }
    }

    /// Whether every field of the rotation in progress has its pending value.
    public func rotationIsStaged(_ owner: SecretOwner) throws -> Bool {
        guard let state = try rotation(of: owner), state.inProgress else { return false }
        return try state.fields.allSatisfy { try secret(SecretTarget(owner: owner, field: $0), stage: .pending) != nil }
    }

    private func insertRotationRow(_ owner: SecretOwner, fields: [String], rotator: String, _ db: any SQLConnection)
        throws
    {
        guard let location = try ownerRow(owner, db, createAuthorization: false) else {
            throw SigilError(.notFound, "\(owner) does not exist")
        }
        let now = timestamp()
        let fieldsJSON = String(decoding: try JSONEncoder().encode(fields), as: UTF8.self)
        try db.run(
            sql: """
                INSERT INTO rotations (owner_kind, owner_id, fields, rotator, step, started_at, updated_at)
                VALUES (?, ?, ?, ?, 'started', ?, ?)
                ON CONFLICT (owner_kind, owner_id) DO UPDATE SET fields = excluded.fields, rotator = excluded.rotator,
                    step = 'started', started_at = excluded.started_at, tested_at = NULL, finished_at = NULL,
                    updated_at = excluded.updated_at, last_error = NULL
                """, arguments: [location.kind, location.id, fieldsJSON, rotator, now, now])
        let id = try db.value(
            Int64.self, sql: "SELECT id FROM rotations WHERE owner_kind = ? AND owner_id = ?",
            arguments: [location.kind, location.id])!
        try authenticateRow(.rotations, id: id, db)
        try audit(
            "rotation.start", target: owner.description,
            detail: ["fields": fields.joined(separator: ","), "rotator": rotator], db)
    }

    // MARK: Rows

    private func rotationRow(_ owner: SecretOwner, _ db: any SQLConnection) throws -> SQLRow? {
        guard let location = try ownerRow(owner, db, createAuthorization: false) else { return nil }
        guard
            let row = try db.row(
                sql: "SELECT * FROM rotations WHERE owner_kind = ? AND owner_id = ?",
                arguments: [location.kind, location.id])
        else { return nil }
        try requireAuthenticRow(.rotations, row, db)
        return row
    }

    private func requireRotation(_ owner: SecretOwner, _ db: any SQLConnection) throws -> (SQLRow, RotationState) {
        guard let row = try rotationRow(owner, db) else {
            throw SigilError(.rotationState, "\(owner): no rotation was started; run `sigil rotate start` first")
        }
        return (row, try rotationState(row, owner: owner))
    }

    private func rotationLocation(_ row: SQLRow) throws -> (kind: String, id: Int64) {
        (row["owner_kind"], row["owner_id"])
    }

    private func rotationState(_ row: SQLRow, owner: SecretOwner) throws -> RotationState {
        guard let step = RotationState.Step(rawValue: row["step"]),
            let fields = try? JSONDecoder().decode([String].self, from: Data((row["fields"] as String).utf8))
        else {
            throw SigilError(.catalogTampered, "the rotation of \(owner) is not readable")
        }
        return RotationState(
            owner: owner.description, fields: fields, rotator: row["rotator"], step: step, startedAt: row["started_at"],
            testedAt: row["tested_at"], finishedAt: row["finished_at"], lastError: row["last_error"])
    }

    private func setRotationStep(
        _ row: SQLRow, _ step: RotationState.Step, finishedAt: String?, _ db: any SQLConnection
    ) throws {
        let id: Int64 = row["id"]
        try db.run(
            sql: "UPDATE rotations SET step = ?, finished_at = ?, updated_at = ? WHERE id = ?",
            arguments: [step.rawValue, finishedAt, timestamp(), id])
        try authenticateRow(.rotations, id: id, db)
    }
}
