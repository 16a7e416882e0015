/// A reference to one item of a vault, by name: for messages, audit entries and deletion.
public enum ItemRef: Sendable, Hashable, CustomStringConvertible {
    case externalCredential(String)
    case principal(PrincipalRef)
    case namedCredential(String)
    case user(String)
    case group(String)
    case grant(PrincipalRef)
    case authorization(PrincipalRef, user: String)
    /// The apply file's `roles:`.
    case roles
    /// The apply file's `service:`.
    case service

    public var description: String {
        switch self {
        case .externalCredential(let name): "external credential \(name)"
        case .principal(let principal): "principal \(principal)"
        case .namedCredential(let name): "named credential \(name)"
        case .user(let name): "user \(name)"
        case .group(let name): "group \(name)"
        case .grant(let principal): "grants of principal \(principal)"
        case .authorization(let principal, let user): "authorization of user \(user) for principal \(principal)"
        case .roles: "roles"
        case .service: "service settings"
        }
    }
}
