/// How to authenticate: a protocol, its non-secret parameters, custom headers in order, and the
/// principals whose secrets it uses.
public struct ExternalCredential: Sendable, Hashable {
    public var name: String
    public var authProtocol: AuthProtocol
    public var parameters: [String: String]
    public var customHeaders: [CustomHeader]
    public var principals: [Principal]
    /// How its principals' secrets are rotated, unless a principal says otherwise.
    public var rotation: RotationPolicy?

    public init(
        name: String, authProtocol: AuthProtocol, parameters: [String: String] = [:],
        customHeaders: [CustomHeader] = [], principals: [Principal] = [], rotation: RotationPolicy? = nil
    ) {
        self.name = name
        self.authProtocol = authProtocol
        self.parameters = parameters
        self.customHeaders = customHeaders
        self.principals = principals
        self.rotation = rotation
    }

    /// The rotation policy of principal `name`: its own, else this credential's.
    public func rotationPolicy(of name: String) -> RotationPolicy? {
        principal(named: name)?.rotation ?? rotation
    }

    public func principal(named name: String) -> Principal? {
        principals.first { $0.name == name }
    }

    /// Rules that concern this credential alone.
    func issues() -> [ValidationIssue] {
        let item = ItemRef.externalCredential(name)
        var issues: [ValidationIssue] = []
        if let problem = Names.problem(withItemName: name) {
            issues.append(ValidationIssue(item, field: "name", problem))
        }
        issues += Parameters.issues(parameters, item: item)
        for (index, header) in customHeaders.enumerated() {
            issues += header.issues(item: item, field: "customHeaders[\(index)]")
        }
        var principalNames: Set<String> = []
        var sequences: [Int: String] = [:]
        for principal in principals {
            let principalItem = ItemRef.principal(PrincipalRef(externalCredential: name, principal: principal.name))
            if let problem = Names.problem(withItemName: principal.name) {
                issues.append(ValidationIssue(principalItem, field: "name", problem))
            }
            if !principalNames.insert(principal.name).inserted {
                issues.append(ValidationIssue(principalItem, "is defined twice"))
            }
            if principal.sequence < 1 || principal.sequence > 1_000_000 {
                issues.append(
                    ValidationIssue(
                        principalItem, field: "sequence", "must be between 1 and 1000000, not \(principal.sequence)"))
            } else if let other = sequences[principal.sequence] {
                issues.append(
                    ValidationIssue(
                        principalItem, field: "sequence",
                        "\(principal.sequence) is already the sequence of principal \(other)"))
            } else {
                sequences[principal.sequence] = principal.name
            }
            issues += Parameters.issues(principal.parameters, item: principalItem)
            for (field, problem) in principal.rotation?.problems ?? [] {
                issues.append(ValidationIssue(principalItem, field: "rotation.\(field)", problem))
            }
        }
        for (field, problem) in rotation?.problems ?? [] {
            issues.append(ValidationIssue(item, field: "rotation.\(field)", problem))
        }
        return issues
    }
}

/// Rules for parameter maps (external credentials' and principals').
enum Parameters {
    static let maximumValueLength = 8192

    static func issues(_ parameters: [String: String], item: ItemRef) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        for (key, value) in parameters.sorted(by: { $0.key < $1.key }) {
            if let problem = Names.problem(withFieldName: key) {
                issues.append(ValidationIssue(item, field: "parameters", "parameter name \(problem)"))
            }
            if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
                issues.append(ValidationIssue(item, field: "parameters.\(key)", "has a CR, LF or NUL"))
            }
            if let problem = Names.privateKeyProblem(in: value) {
                issues.append(ValidationIssue(item, field: "parameters.\(key)", problem))
            }
            if value.utf8.count > maximumValueLength {
                issues.append(
                    ValidationIssue(item, field: "parameters.\(key)", "is longer than \(maximumValueLength) bytes"))
            }
        }
        return issues
    }
}
