/// A header added to every request of a credential, in order. The value is a template that may
/// contain merge fields (`{!$Credential.Billing.apiKey}`); it is not a secret itself.
public struct CustomHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Headers a credential may never set: they frame the message or route it, and belong to the
    /// HTTP client.
    static let reserved: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "proxy-authorization", "proxy-connection",
    ]

    /// Problems with this header, described for the field `field` of `item`.
    func issues(item: ItemRef, field: String) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        // RFC 9110 section 5.6.2: field names are tokens.
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        if name.isEmpty || !name.utf8.allSatisfy(tokenCharacters.contains) {
            issues.append(ValidationIssue(item, field: field, "header name \"\(name.sanitizedForMessage)\" is not a valid HTTP field name"))
        } else if Self.reserved.contains(name.lowercased()) {
            issues.append(ValidationIssue(item, field: field, "header \(name) is set by the HTTP client and cannot be a custom header"))
        }
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            issues.append(ValidationIssue(item, field: field, "header \(name.sanitizedForMessage) has a CR, LF or NUL in its value"))
        }
        if let problem = Names.privateKeyProblem(in: value) {
            issues.append(ValidationIssue(item, field: field, "header \(name.sanitizedForMessage) " + problem))
        }
        return issues
    }
}
