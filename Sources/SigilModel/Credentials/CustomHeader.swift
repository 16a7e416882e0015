/// A header added to every request of a credential, in order. The value is a template that may
/// contain merge fields (`{!$Credential.Billing.apiKey}`); it is not a secret itself.
public struct CustomHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Problems with this header, described for the field `field` of `item`.
    func issues(item: ItemRef, field: String) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        if !HTTPFieldRules.isValidName(name) {
            issues.append(
                ValidationIssue(
                    item, field: field, "header name \"\(name.sanitizedForMessage)\" is not a valid HTTP field name"))
        } else if HTTPFieldRules.isReserved(name) {
            issues.append(
                ValidationIssue(
                    item, field: field, "header \(name) is set by the HTTP client and cannot be a custom header"))
        }
        if HTTPFieldRules.hasControlCharacter(value) {
            issues.append(
                ValidationIssue(
                    item, field: field,
                    "header \(name.sanitizedForMessage) has a control character (CR, LF, NUL, BEL...) in its value"))
        }
        do {
            _ = try MergeTemplate(parsing: value)
        } catch {
            issues.append(
                ValidationIssue(item, field: field, "header \(name.sanitizedForMessage): merge field \(error)"))
        }
        if let problem = Names.privateKeyProblem(in: value) {
            issues.append(ValidationIssue(item, field: field, "header \(name.sanitizedForMessage) " + problem))
        }
        return issues
    }
}
