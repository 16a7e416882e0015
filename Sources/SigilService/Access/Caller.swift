public import SigilModel

/// An authenticated caller of the service: a Sigil user, how they proved it, and their roles.
public struct Caller: Sendable, Hashable {
    public var user: User
    /// The authenticator that accepted them: `basic`, `api-key`.
    public var authenticator: String
    public var roles: Set<Role>
    /// Whether they may act as another user (`"as"`): admins, and apps whose grant says so.
    public var mayActAsOthers: Bool

    public init(user: User, authenticator: String, roles: Set<Role>, mayActAsOthers: Bool) {
        self.user = user
        self.authenticator = authenticator
        self.roles = roles
        self.mayActAsOthers = mayActAsOthers
    }

    /// The caller as the catalog describes `user` now, or `nil` when the catalog has no such user.
    /// `directoryGroups` (Sigil groups a directory says the user is in) count for roles; the
    /// engine's principal choice reads the catalog's groups only.
    public init?(user name: String, authenticator: String, catalog: Catalog, directoryGroups: [String] = []) {
        guard var user = catalog.user(named: name) else { return nil }
        let (roles, actAs) = catalog.roles(
            of: User(name: user.name, groups: Array(Set(user.groups + directoryGroups)).sorted()))
        user.groups = Array(Set(user.groups + directoryGroups)).sorted()
        self.init(user: user, authenticator: authenticator, roles: roles, mayActAsOthers: actAs)
    }

    public func has(_ role: Role) -> Bool {
        roles.contains(role) || roles.contains(.admin)
    }
}
