import SigilCore

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
    /// How the server is trusted: a CA bundle instead of the system's roots, SPKI pins.
    public var trust: Trust?

    /// Which servers a named credential's TLS connections accept.
    public struct Trust: Sendable, Hashable {
        /// CA certificates (PEM) that replace the system's roots for this endpoint.
        public var caBundle: String?
        /// `sha256/BASE64` of the SubjectPublicKeyInfo of a certificate the server's chain must
        /// contain (RFC 7469's form); empty: no pinning.
        public var pins: [String]

        public init(caBundle: String? = nil, pins: [String] = []) {
            self.caBundle = caBundle
            self.pins = pins
        }
    }

    /// The secret field that holds the client identity's private key.
    public static let clientKeyField = "privateKey"

    public init(
        name: String, url: String, externalCredential: String, generateAuthorizationHeader: Bool = true,
        allowMergeFieldsInHeader: Bool = false, allowMergeFieldsInBody: Bool = false,
        customHeaders: [CustomHeader] = [], clientCertificate: String? = nil, trust: Trust? = nil
    ) {
        self.name = name
        self.url = url
        self.externalCredential = externalCredential
        self.generateAuthorizationHeader = generateAuthorizationHeader
        self.allowMergeFieldsInHeader = allowMergeFieldsInHeader
        self.allowMergeFieldsInBody = allowMergeFieldsInBody
        self.customHeaders = customHeaders
        self.clientCertificate = clientCertificate
        self.trust = trust
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
            issues.append(ValidationIssue(item, field: "url", "\(url.urlForMessage) \(error.problem)"))
        }
        for (index, header) in customHeaders.enumerated() {
            issues += header.issues(item: item, field: "customHeaders[\(index)]")
        }
        if let certificate = clientCertificate, let problem = Names.privateKeyProblem(in: certificate) {
            issues.append(ValidationIssue(item, field: "clientIdentity.certificate", problem))
        } else if let certificate = clientCertificate {
            do {
                _ = try CertificateInfo.chain(pem: certificate)
            } catch {
                issues.append(ValidationIssue(item, field: "clientIdentity.certificate", error.problem))
            }
        }
        if let trust {
            if let bundle = trust.caBundle, let problem = Names.privateKeyProblem(in: bundle) {
                issues.append(ValidationIssue(item, field: "trust.caBundle", problem))
            } else if let bundle = trust.caBundle, PEM.certificates(in: bundle).isEmpty {
                issues.append(ValidationIssue(item, field: "trust.caBundle", "is not a PEM certificate bundle"))
            }
            for (index, pin) in trust.pins.enumerated() where !Self.isPin(pin) {
                issues.append(
                    ValidationIssue(
                        item, field: "trust.pins[\(index)]",
                        "\(pin.sanitizedForMessage) is not sha256/ followed by the base64 of 32 bytes"))
            }
            if (try? endpoint)?.scheme == "http" {
                issues.append(ValidationIssue(item, field: "trust", "applies to https endpoints only"))
            }
        }
        return issues
    }

    /// `sha256/` and 44 characters of standard base64 (32 bytes).
    static func isPin(_ pin: String) -> Bool {
        guard pin.hasPrefix("sha256/") else { return false }
        let value = pin.dropFirst(7).utf8
        return value.count == 44 && value.last == UInt8(ascii: "=")
            && value.dropLast().allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B
                    || $0 == 0x2F
            }
    }
}
