import SigilModel

/// Who may call a route. Every route of the service is declared with one (``RouteTable``), so none
/// is reachable anonymously by accident.
public enum Access: String, Sendable, Hashable, CaseIterable {
    /// Anyone, authenticated or not: health, readiness, the OpenAPI document.
    case anyone
    /// Any authenticated caller (every user is a member): signs with the principals granted to them,
    /// sees their own authorizations.
    case member
    /// Operators and admins: credentials, secrets (write-only), the audit log.
    case `operator`
    /// Admins only: keys, the service settings and roles.
    case admin

    /// Whether `caller` (`nil`: anonymous) may call a route with this rule.
    public func admits(_ caller: Caller?) -> Bool {
        switch self {
        case .anyone: true
        case .member: caller != nil
        case .operator: caller.map { $0.has(.operator) } ?? false
        case .admin: caller.map { $0.has(.admin) } ?? false
        }
    }
}
