public import SigilCore

/// Everything a vault describes except secret values: external credentials with their principals,
/// named credentials, users, groups and grants. `sigil export` writes one; `sigil apply` reads one
/// (only the items a file mentions) and merges it into the stored one.
///
/// Items are kept sorted (credentials, users and groups by name, principals by sequence, grants by
/// principal), so two catalogs with the same content compare equal.
public struct Catalog: Sendable, Hashable {
    public private(set) var externalCredentials: [ExternalCredential]
    public private(set) var namedCredentials: [NamedCredential]
    public private(set) var users: [User]
    /// Every group: those declared on their own and those users belong to.
    public private(set) var groups: [String]
    public private(set) var grants: [Grant]
    /// The service's roles, or `nil` where a file does not mention them (a stored catalog without
    /// any has `nil` too). A file's `roles:` replaces the stored roles whole.
    public private(set) var roles: [RoleGrant]?
    /// The service's settings, or `nil` where a file does not mention them; a file's `service:`
    /// replaces the stored settings whole. A vault without any runs with the defaults.
    public private(set) var service: ServiceSettings?

    public init(
        externalCredentials: [ExternalCredential] = [], namedCredentials: [NamedCredential] = [],
        users: [User] = [], groups: [String] = [], grants: [Grant] = [], roles: [RoleGrant]? = nil,
        service: ServiceSettings? = nil
    ) {
        self.externalCredentials = externalCredentials
        self.namedCredentials = namedCredentials
        self.users = users
        self.groups = groups
        self.grants = grants
        self.roles = roles
        self.service = service
        normalize()
    }

    /// The roles of `user` (directly or through a group), and whether an `app` grant lets them act
    /// as other users.
    public func roles(of user: User) -> (roles: Set<Role>, actAs: Bool) {
        var roles: Set<Role> = []
        var actAs = false
        for grant in self.roles ?? [] {
            let applies =
                switch grant.subject {
                case .user(let name): name == user.name
                case .group(let name): user.groups.contains(name)
                }
            guard applies else { continue }
            roles.insert(grant.role)
            if grant.role == .app && grant.actAs { actAs = true }
        }
        return (roles, actAs || roles.contains(.admin))
    }

    // Look-ups search the sorted arrays (binary search): `apply` of 20,000 users looks each one up,
    // and a linear scan made it quadratic.

    public func externalCredential(named name: String) -> ExternalCredential? {
        Self.find(name, in: externalCredentials, by: \.name)
    }

    public func namedCredential(named name: String) -> NamedCredential? {
        Self.find(name, in: namedCredentials, by: \.name)
    }

    public func user(named name: String) -> User? {
        Self.find(name, in: users, by: \.name)
    }

    /// Whether group `name` exists.
    public func hasGroup(_ name: String) -> Bool {
        Self.find(name, in: groups, by: \.self) != nil
    }

    /// The first element of `items` (sorted by `key`) whose key is `value`.
    private static func find<Item, Key: Comparable>(_ value: Key, in items: [Item], by key: KeyPath<Item, Key>) -> Item?
    {
        var low = 0
        var high = items.count
        while low < high {
            let middle = (low + high) / 2
            if items[middle][keyPath: key] < value { low = middle + 1 } else { high = middle }
        }
        return low < items.count && items[low][keyPath: key] == value ? items[low] : nil
    }

    public func principal(_ reference: PrincipalRef) -> Principal? {
        externalCredential(named: reference.externalCredential)?.principal(named: reference.principal)
    }

    public func grant(for principal: PrincipalRef) -> Grant? {
        Self.find(principal, in: grants, by: \.principal)
    }

    /// Whether `principal` is granted to `user`, directly or through one of their groups.
    public func isGranted(_ principal: PrincipalRef, to user: User) -> Bool {
        guard let subjects = grant(for: principal)?.subjects else { return false }
        return subjects.contains { subject in
            switch subject {
            case .user(let name): name == user.name
            case .group(let name): user.groups.contains(name)
            }
        }
    }

    /// This catalog with `update`'s items laid over it. An item in `update` replaces the item of
    /// the same name, except that an external credential's principals merge by name (principals
    /// the update does not list are kept). Nothing is removed: deletion is explicit.
    public func merging(_ update: Catalog) -> Catalog {
        var merged = self
        var externalIndex = Self.indexes(merged.externalCredentials, by: \.name)
        for credential in update.externalCredentials {
            if let index = externalIndex[credential.name] {
                var principals = merged.externalCredentials[index].principals
                for principal in credential.principals {
                    if let existing = principals.firstIndex(where: { $0.name == principal.name }) {
                        principals[existing] = principal
                    } else {
                        principals.append(principal)
                    }
                }
                var replacement = credential
                replacement.principals = principals
                merged.externalCredentials[index] = replacement
            } else {
                externalIndex[credential.name] = merged.externalCredentials.count
                merged.externalCredentials.append(credential)
            }
        }
        Self.replace(&merged.namedCredentials, with: update.namedCredentials, by: \.name)
        Self.replace(&merged.users, with: update.users, by: \.name)
        merged.groups += update.groups
        Self.replace(&merged.grants, with: update.grants, by: \.principal)
        if let roles = update.roles { merged.roles = roles }
        if let service = update.service { merged.service = service }
        merged.normalize()
        return merged
    }

    /// The position of each key's first item.
    private static func indexes<Item, Key: Hashable>(_ items: [Item], by key: KeyPath<Item, Key>) -> [Key: Int] {
        var positions: [Key: Int] = [:]
        for (position, item) in items.enumerated() where positions[item[keyPath: key]] == nil {
            positions[item[keyPath: key]] = position
        }
        return positions
    }

    /// Replaces the items whose key an update item has (every one of them), then adds the update's
    /// items; in time linear in both.
    private static func replace<Item, Key: Hashable>(
        _ items: inout [Item], with updates: [Item], by key: KeyPath<Item, Key>
    ) {
        guard !updates.isEmpty else { return }
        let replaced = Set(updates.map { $0[keyPath: key] })
        items.removeAll { replaced.contains($0[keyPath: key]) }
        items += updates
    }

    /// Every broken rule: item rules (names, URLs, headers, sequences) and references (a named
    /// credential's external credential, grants' principals and subjects).
    public func issues() -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        issues += duplicates(externalCredentials.map(\.name)).map {
            ValidationIssue(.externalCredential($0), "is defined twice")
        }
        issues += duplicates(namedCredentials.map(\.name)).map {
            ValidationIssue(.namedCredential($0), "is defined twice")
        }
        issues += duplicates(users.map(\.name)).map { ValidationIssue(.user($0), "is defined twice") }

        for credential in externalCredentials {
            issues += credential.issues()
        }
        for credential in namedCredentials {
            issues += credential.issues()
            let item = ItemRef.namedCredential(credential.name)
            guard let external = externalCredential(named: credential.externalCredential) else {
                issues.append(
                    ValidationIssue(
                        item, field: "externalCredential",
                        "names \(credential.externalCredential.sanitizedForMessage), which does not exist"))
                continue
            }
            if credential.generateAuthorizationHeader {
                let custom = (external.customHeaders + credential.customHeaders).filter {
                    $0.name.lowercased() == "authorization"
                }
                if !custom.isEmpty, external.authProtocol != .none, external.authProtocol != .custom {
                    issues.append(
                        ValidationIssue(
                            item, field: "customHeaders",
                            "sets Authorization while generateAuthorizationHeader is on; turn one of them off"))
                }
            }
        }
        for user in users {
            let item = ItemRef.user(user.name)
            if let problem = Names.problem(withUserName: user.name) {
                issues.append(ValidationIssue(item, field: "name", problem))
            }
        }
        for group in groups {
            if let problem = Names.problem(withItemName: group) {
                issues.append(ValidationIssue(.group(group), field: "name", problem))
            }
        }
        let groupSet = Set(groups)
        let userSet = Set(users.map(\.name))
        for grant in grants {
            let item = ItemRef.grant(grant.principal)
            if principal(grant.principal) == nil {
                issues.append(ValidationIssue(item, field: "principal", "principal \(grant.principal) does not exist"))
            }
            for subject in grant.subjects {
                switch subject {
                case .user(let name) where !userSet.contains(name):
                    issues.append(ValidationIssue(item, field: "to", "user \(name.sanitizedForMessage) does not exist"))
                case .group(let name) where !groupSet.contains(name):
                    issues.append(
                        ValidationIssue(item, field: "to", "group \(name.sanitizedForMessage) does not exist"))
                default:
                    break
                }
            }
        }
        for grant in roles ?? [] {
            switch grant.subject {
            case .user(let name) where !userSet.contains(name):
                issues.append(
                    ValidationIssue(
                        .roles, field: grant.role.rawValue, "user \(name.sanitizedForMessage) does not exist"))
            case .group(let name) where !groupSet.contains(name):
                issues.append(
                    ValidationIssue(
                        .roles, field: grant.role.rawValue, "group \(name.sanitizedForMessage) does not exist"))
            default:
                break
            }
            if grant.actAs && grant.role != .app {
                issues.append(ValidationIssue(.roles, field: grant.role.rawValue, "actAs is for the app role only"))
            }
        }
        for (field, problem) in (service?.failures.problems ?? []) + (service?.platformSession?.problems ?? [])
            + (service?.directory?.problems ?? []) + (service?.saml?.problems ?? [])
        {
            issues.append(ValidationIssue(.service, field: field, problem))
        }
        for (directoryGroup, group) in (service?.directory?.groups ?? [:]).sorted(by: { $0.key < $1.key })
        where !groupSet.contains(group) {
            issues.append(
                ValidationIssue(
                    .service, field: "directory.groups.\(directoryGroup.sanitizedForMessage)",
                    "group \(group.sanitizedForMessage) does not exist"))
        }
        return issues
    }

    /// Throws one error listing every issue, if there are any.
    public func validate() throws(SigilError) {
        let issues = issues()
        if !issues.isEmpty { throw SigilError.invalid(issues) }
    }

    private func duplicates(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        var repeated: [String] = []
        var reported: Set<String> = []
        for name in names where !seen.insert(name).inserted && reported.insert(name).inserted {
            repeated.append(name)
        }
        return repeated
    }

    private mutating func normalize() {
        // Users declare the groups they belong to.
        groups = Array(Set(groups + users.flatMap(\.groups))).sorted()
        externalCredentials.sort { $0.name < $1.name }
        for index in externalCredentials.indices {
            externalCredentials[index].principals.sort { ($0.sequence, $0.name) < ($1.sequence, $1.name) }
        }
        namedCredentials.sort { $0.name < $1.name }
        users.sort { $0.name < $1.name }
        for index in users.indices {
            users[index].groups = Array(Set(users[index].groups)).sorted()
        }
        grants.sort { $0.principal < $1.principal }
        for index in grants.indices {
            grants[index].subjects = Array(Set(grants[index].subjects)).sorted()
        }
        // One grant per role and subject: a subject listed twice keeps actAs if either has it.
        roles = roles.map { grants in
            var merged: [RoleGrant] = []
            for grant in grants.sorted() {
                if let last = merged.last, last.role == grant.role, last.subject == grant.subject {
                    merged[merged.count - 1].actAs = last.actAs || grant.actAs
                } else {
                    merged.append(grant)
                }
            }
            return merged
        }
    }
}
