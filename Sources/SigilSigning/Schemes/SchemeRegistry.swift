public import SigilCore
public import SigilModel

/// The one place that knows which scheme implements which protocol. Adding a protocol means a
/// folder under `Schemes/`, a case of `AuthProtocol`, and one line here (the switch is exhaustive,
/// so the compiler asks for it).
public enum SchemeRegistry {
    static func type(of authProtocol: AuthProtocol) -> any AuthorizationScheme.Type {
        switch authProtocol {
        case .basic: BasicScheme.self
        case .custom: CustomScheme.self
        case .none: NoneScheme.self
        case .jwt: JWTScheme.self
        case .awsSigV4: SigV4Scheme.self
        case .oauth2: OAuth2Scheme.self
        }
    }

    /// The settings of `principal` of `external`, parsed and checked.
    package static func scheme(of external: ExternalCredential, principal: Principal) throws(SigilError)
        -> any AuthorizationScheme
    {
        do throws(SettingIssue) {
            return try parse(external, principal)
        } catch {
            let owner =
                principalOwns(error, principal)
                ? "principal \(PrincipalRef(externalCredential: external.name, principal: principal.name))"
                : "external credential \(external.name)"
            throw SigilError(error.isSecret ? .invalidSecret : .invalidParameter, "\(owner): \(error)")
        }
    }

    private static func parse(_ external: ExternalCredential, _ principal: Principal) throws(SettingIssue)
        -> any AuthorizationScheme
    {
        try type(of: external.authProtocol).init(SchemeParameters(external: external, principal: principal))
    }

    /// Whether what `issue` names is the principal's own (a secret, or a parameter the principal
    /// sets), else its external credential's.
    private static func principalOwns(_ issue: SettingIssue, _ principal: Principal) -> Bool {
        issue.isSecret || principal.parameters[issue.name] != nil
    }

    /// Every principal's settings in `catalog` that do not parse, as the issues `sigil apply`
    /// reports with the file's lines: attributed to the principal when it sets the parameter,
    /// else to its external credential.
    public static func issues(in catalog: Catalog) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        for external in catalog.externalCredentials {
            for principal in external.principals {
                do throws(SettingIssue) {
                    _ = try parse(external, principal)
                } catch {
                    let owned = principalOwns(error, principal)
                    let issue = ValidationIssue(
                        owned
                            ? .principal(PrincipalRef(externalCredential: external.name, principal: principal.name))
                            : .externalCredential(external.name),
                        field: error.field,
                        owned ? error.problem : "\(error.problem) (for principal \(principal.name))")
                    if !issues.contains(issue) { issues.append(issue) }
                }
            }
        }
        return issues
    }

    /// Problems with the secrets `changed` assigns, checked by each principal's scheme as decorating
    /// would (a JWT key for its algorithm and size, its certificate), in `catalog` (the vault's
    /// catalog with the change applied). `stored` reads a secret the change leaves as it is.
    public static func secretProblems(
        in catalog: Catalog, changed: [SecretTarget: SecretBytes], stored: (SecretTarget) throws -> SecretBytes?
    ) throws -> [String] {
        var problems: [String] = []
        var checked = Set<SecretOwner>()
        for target in changed.keys.sorted(by: { $0.description < $1.description }) {
            guard checked.insert(target.owner).inserted else { continue }
            let reference: PrincipalRef
            switch target.owner {
            case .principal(let principal), .authorization(let principal, _): reference = principal
            case .namedCredential(let name):
                if let named = catalog.namedCredential(named: name) {
                    problems += try MTLSIdentity.problems(of: named, changed: changed, stored: stored)
                }
                continue
            }
            guard let external = catalog.externalCredential(named: reference.externalCredential),
                let principal = external.principal(named: reference.principal),
                let scheme = try? scheme(of: external, principal: principal)
            else { continue }
            let owner = target.owner
            for issue in try scheme.checkSecrets({ field in
                let target = SecretTarget(owner: owner, field: field)
                if let value = changed[target] { return value }
                // A user's authorization lacks a field the principal holds (a shared client secret).
                if case .authorization(let principal, _) = owner, try stored(target) == nil {
                    return try changed[SecretTarget(owner: .principal(principal), field: field)]
                        ?? stored(SecretTarget(owner: .principal(principal), field: field))
                }
                return try stored(target)
            }) {
                problems.append("\(owner), \(issue.field): \(issue.problem)")
            }
        }
        return problems
    }

    /// The secret fields a user types in to authorize `principal` (a per-user principal) by hand, as
    /// its scheme says (a Basic user-id and password; the fields a custom header's merge fields
    /// name); `nil` when the user authorizes at a provider instead (OAuth 2.0) or not by hand.
    public static func userSecretFields(of external: ExternalCredential, principal: Principal, in catalog: Catalog)
        -> [String]?
    {
        guard let scheme = try? scheme(of: external, principal: principal) else { return nil }
        let headers =
            external.customHeaders
            + catalog.namedCredentials.filter { $0.externalCredential == external.name }.flatMap(\.customHeaders)
        var fields = Set<String>()
        for header in headers {
            for reference in (try? MergeTemplate(parsing: header.value))?.references ?? [] {
                switch reference {
                case .field(let credential, let name)
                where credential == external.name && principal.parameters[name] == nil
                    && external.parameters[name] == nil:
                    fields.insert(name)
                case .userName where principal.parameters["username"] == nil: fields.insert("username")
                case .password: fields.insert("password")
                default: break
                }
            }
        }
        return scheme.userSecretFields(mergeFields: fields.sorted())
    }
}
