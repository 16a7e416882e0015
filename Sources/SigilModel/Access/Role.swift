/// What a caller of the service may do beyond using the principals granted to them (every
/// authenticated user is a member and may do that).
public enum Role: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// Everything: keys, the service's settings and roles, acting as any user.
    case admin
    /// Manages credentials and writes secrets, reads the audit log; never acts as another user.
    case `operator`
    /// An application: signs, presigns and proxies; acts as another user (`"as"`) only when its
    /// grant says so.
    case app

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `admin, app, operator`, for messages.
    public static var allNames: String { allCases.map(\.rawValue).sorted().joined(separator: ", ") }
}

/// One subject's role, from the apply file's `roles:`.
public struct RoleGrant: Sendable, Hashable, Comparable {
    public var role: Role
    public var subject: GrantSubject
    /// For `app` only: it may sign, presign and proxy as another user.
    public var actAs: Bool

    public init(role: Role, subject: GrantSubject, actAs: Bool = false) {
        self.role = role
        self.subject = subject
        self.actAs = actAs
    }

    public static func < (lhs: RoleGrant, rhs: RoleGrant) -> Bool {
        (lhs.role, lhs.subject) < (rhs.role, rhs.subject)
    }
}
