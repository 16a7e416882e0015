/// Where to call: a base URL bound to one external credential, with the options that say how
/// requests to it are decorated, and an optional TLS client identity.
public struct NamedCredential: Sendable, Hashable {
    public var name: String
    /// The base URL as written; ``endpoint`` is its parsed, normalised form.
    public var url: String
    public var externalCredential: String
    public var generateAuthorizationHeader: Bool
    public var allowMergeFieldsInHeader: Bool
    public var allowMergeFieldsInBody: Bool
    public var customHeaders: [CustomHeader]
    /// The client certificate chain (PEM, leaf first) for mTLS. Its private key is a secret of the
    /// named credential (field ``clientKeyField``).
    public var clientCertificate: String?

    /// The secret field that holds the client identity's private key.
    public static let clientKeyField = "privateKey"

    public init(
        name: String, url: String, externalCredential: String, generateAuthorizationHeader: Bool = true,
        allowMergeFieldsInHeader: Bool = false, allowMergeFieldsInBody: Bool = false,
        customHeaders: [CustomHeader] = [], clientCertificate: String? = nil
    ) {
        self.name = name
        self.url = url
        self.externalCredential = externalCredential
        self.generateAuthorizationHeader = generateAuthorizationHeader
        self.allowMergeFieldsInHeader = allowMergeFieldsInHeader
        self.allowMergeFieldsInBody = allowMergeFieldsInBody
        self.customHeaders = customHeaders
        self.clientCertificate = clientCertificate
    }

    /// The parsed base URL.
    public var endpoint: EndpointURL {
        get throws(EndpointURLError) { try EndpointURL(parsing: url) }
    }

    /// Rules that concern this credential alone.
    func issues() -> [ValidationIssue] {
        let item = ItemRef.namedCredential(name)
        var issues: [ValidationIssue] = []
        if let problem = Names.problem(withItemName: name) {
            issues.append(ValidationIssue(item, field: "name", problem))
        }
        do {
            _ = try endpoint
        } catch {
            issues.append(ValidationIssue(item, field: "url", "\(url.sanitizedForMessage) \(error.problem)"))
        }
        for (index, header) in customHeaders.enumerated() {
            issues += header.issues(item: item, field: "customHeaders[\(index)]")
        }
        if let certificate = clientCertificate, !certificate.contains("-----BEGIN CERTIFICATE-----") {
            issues.append(ValidationIssue(item, field: "clientIdentity.certificate", "is not a PEM certificate chain"))
        }
        return issues
    }
}
