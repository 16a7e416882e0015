/// Whose identity a principal is.
public enum PrincipalType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// One identity for the whole organisation (a system account).
    case named
    /// Each user authorizes their own account; the principal holds one authorization per user.
    case perUser = "per-user"

    public var description: String { rawValue }
}

/// An identity of an external credential: its non-secret parameters (scope, username, role ARN),
/// and, in the store, its secrets. When a user may use several principals, the lowest
/// ``sequence`` wins.
public struct Principal: Sendable, Hashable {
    public var name: String
    public var type: PrincipalType
    public var sequence: Int
    public var parameters: [String: String]
    /// How its secret is rotated (else its external credential's policy).
    public var rotation: RotationPolicy?

    public init(
        name: String, type: PrincipalType, sequence: Int, parameters: [String: String] = [:],
        rotation: RotationPolicy? = nil
    ) {
        self.name = name
        self.type = type
        self.sequence = sequence
        self.parameters = parameters
        self.rotation = rotation
    }
}

/// `ExternalCredential/principal`: how grants, secrets and the CLI name a principal.
public struct PrincipalRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var externalCredential: String
    public var principal: String

    public init(externalCredential: String, principal: String) {
        self.externalCredential = externalCredential
        self.principal = principal
    }

    /// Parses `EC/principal`; `nil` when there is not exactly one `/` with a name on each side.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(externalCredential: String(parts[0]), principal: String(parts[1]))
    }

    public var description: String { "\(externalCredential)/\(principal)" }

    public static func < (lhs: PrincipalRef, rhs: PrincipalRef) -> Bool {
        (lhs.externalCredential, lhs.principal) < (rhs.externalCredential, rhs.principal)
    }
}
