/// Who may use a principal: the permission-set mapping. One grant lists every subject of one
/// principal.
public struct Grant: Sendable, Hashable {
    public var principal: PrincipalRef
    public var subjects: [GrantSubject]

    public init(principal: PrincipalRef, subjects: [GrantSubject]) {
        self.principal = principal
        self.subjects = subjects
    }
}

/// A user or a group, written `user:alice` or `group:finance`.
public enum GrantSubject: Sendable, Hashable, Comparable, CustomStringConvertible {
    case user(String)
    case group(String)

    /// Parses `user:NAME` or `group:NAME`.
    public init?(parsing text: String) {
        if text.hasPrefix("user:"), text.count > 5 {
            self = .user(String(text.dropFirst(5)))
        } else if text.hasPrefix("group:"), text.count > 6 {
            self = .group(String(text.dropFirst(6)))
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .user(let name): "user:\(name)"
        case .group(let name): "group:\(name)"
        }
    }

    public static func < (lhs: GrantSubject, rhs: GrantSubject) -> Bool {
        lhs.description < rhs.description
    }
}
