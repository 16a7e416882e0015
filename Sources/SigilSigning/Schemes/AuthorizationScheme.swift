package import Foundation
package import SigilCore
package import SigilModel

/// One authentication protocol: its typed settings, the checks of its secrets, and the decoration
/// of a request. Every protocol has a folder under `Schemes/` shaped alike, and one line in
/// ``SchemeRegistry``; the engine calls these requirements and never asks which protocol it has.
///
/// A value is one principal's settings, parsed from its parameters (a principal's override its
/// external credential's) by ``init(_:)``: once at `sigil apply`, which refuses what does not
/// parse, and once per catalog version for the engine, which keeps the value with the route.
package protocol AuthorizationScheme: Sendable {
    /// The protocol's name in configuration.
    static var authProtocol: AuthProtocol { get }

    /// Whether every stored secret of a principal is meant for the resource (Basic passwords,
    /// custom API keys), so that merge fields may use any of them. When not (client secrets,
    /// signing keys, AWS secret keys), merge fields reach only the secrets listed in the external
    /// credential's `mergeFieldSecrets`.
    static var secretsGoToResource: Bool { get }

    /// Parses and checks the settings; an issue names the parameter and the problem.
    init(_ parameters: SchemeParameters) throws(SettingIssue)

    /// The credential a provider issues for this principal (STS, an OAuth 2.0 token), if any.
    var issuance: IssuedCredential.Kind? { get }

    /// Checks the principal's secrets as decorating would (a JWT key for its algorithm, say), for
    /// `sigil apply` and `sigil secret set`. `secret` reads a current secret of the principal.
    func checkSecrets(_ secret: (String) throws -> SecretBytes?) throws -> [SettingIssue]

    /// The secret fields a user types in to authorize a per-user principal of this scheme (the
    /// service's connect form), given the fields its templates' merge fields name; `nil` when the
    /// user authorizes at a provider instead, or not by hand at all.
    func userSecretFields(mergeFields: [String]) -> [String]?

    /// The `Authorization` value this scheme generates before the custom headers are added, or
    /// `nil` when it generates none there.
    func authorization(_ context: CredentialContext, at date: Date, caches: SchemeCaches) throws -> String?

    /// The last step, over the final headers and body (a signature such as SigV4's).
    func sign(_ request: inout SignedRequest, _ context: CredentialContext, at date: Date, trace: SigningTrace?) throws

    /// Whether ``sign(_:_:at:trace:)`` signs the SHA-256 of the body, which a caller streaming the
    /// body from a file must then declare.
    var signsPayloadHash: Bool { get }

    /// A presigned URL for `request`, valid for `expires` seconds.
    func presign(_ request: SignedRequest, _ context: CredentialContext, at date: Date, expires: Int) throws -> String
}

extension AuthorizationScheme {
    package var issuance: IssuedCredential.Kind? { nil }
    package func checkSecrets(_ secret: (String) throws -> SecretBytes?) throws -> [SettingIssue] { [] }
    package func userSecretFields(mergeFields: [String]) -> [String]? { nil }
    package func authorization(_ context: CredentialContext, at date: Date, caches: SchemeCaches) throws -> String? {
        nil
    }
    package func sign(_ request: inout SignedRequest, _ context: CredentialContext, at date: Date, trace: SigningTrace?)
        throws
    {}
    package var signsPayloadHash: Bool { false }
    package func presign(_ request: SignedRequest, _ context: CredentialContext, at date: Date, expires: Int) throws
        -> String
    {
        throw SigilError(
            .unsupported,
            "external credential \(context.external.name) uses protocol \(Self.authProtocol); only aws-sigv4 credentials presign URLs"
        )
    }
}

/// A request as the last signing step sees it: the final headers, and the body when it is known.
package struct SignedRequest {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]?
    /// The body as the caller declared it (a streamed body may come with its SHA-256).
    package var declared: OutboundRequest.Body
}

/// What schemes keep across requests, found by digests of secret material (never the material):
/// parsed signing keys. (Derived SigV4 signing keys are in ``SigningKeyCache/shared``.)
package final class SchemeCaches: Sendable {
    /// Parsed JWT signing keys by algorithm and the SHA-256 of their material.
    let signingKeys = Memo<JWTScheme.KeyID, JWTSigningKey>(limit: 256)

    package init() {}
}

/// A setting that does not hold: the parameter (or secret) and what is wrong with it. Never holds a
/// secret value.
package struct SettingIssue: Error, Sendable, CustomStringConvertible {
    /// The parameter's or secret's name.
    package var name: String
    /// Whether `name` is a secret (else a parameter).
    package var isSecret: Bool
    package var problem: String

    package init(parameter name: String, _ problem: String) {
        self.name = name
        self.isSecret = false
        self.problem = problem
    }

    package init(secret name: String, _ problem: String) {
        self.name = name
        self.isSecret = true
        self.problem = problem
    }

    /// The field as `sigil apply` names it: `parameters.region`, `secret signingKey`.
    package var field: String { isSecret ? "secret \(name)" : "parameters.\(name)" }

    /// `parameter region is missing`, `secret signingKey is a 1024-bit RSA key...`.
    package var description: String { "\(isSecret ? "secret" : "parameter") \(name) \(problem)" }
}

/// One principal's parameters as a scheme reads them: the principal's, else its external
/// credential's; with helpers that check a value's form and name the parameter when it fails.
package struct SchemeParameters: Sendable {
    package let external: ExternalCredential
    package let principal: Principal

    package init(external: ExternalCredential, principal: Principal) {
        self.external = external
        self.principal = principal
    }

    package subscript(_ name: String) -> String? {
        principal.parameters[name] ?? external.parameters[name]
    }

    /// `principal P of external credential E`, for messages.
    package var owner: String { "external credential \(external.name), principal \(principal.name)" }

    package func required(_ name: String, example: String? = nil) throws(SettingIssue) -> String {
        guard let value = self[name], !value.isEmpty else {
            throw SettingIssue(parameter: name, "is missing" + (example.map { " (e.g. \($0))" } ?? ""))
        }
        return value
    }

    /// A whole number within `range` (`unit` names what it counts, for the message).
    package func integer(_ name: String, default value: Int, range: ClosedRange<Int>, unit: String = "seconds")
        throws(SettingIssue) -> Int
    {
        guard let text = self[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw SettingIssue(
                parameter: name,
                "must be a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound), not \(text.sanitizedForMessage)"
            )
        }
        return number
    }

    /// One of a fixed set of names.
    package func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, default value: Choice)
        throws(SettingIssue) -> Choice
    where Choice.RawValue == String {
        guard let text = self[name] else { return value }
        guard let choice = Choice(rawValue: text) else {
            throw SettingIssue(
                parameter: name,
                "\(text.sanitizedForMessage) is not one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return choice
    }

    /// An endpoint Sigil calls with secrets: https, or plain http to a loopback address only;
    /// no user information, no fragment.
    package func endpoint(_ name: String) throws(SettingIssue) -> String? {
        guard let url = self[name] else { return nil }
        if let problem = Self.endpointProblem(url) { throw SettingIssue(parameter: name, problem) }
        return url
    }

    /// Why `url` cannot be an endpoint Sigil sends secrets to, or `nil`.
    package static func endpointProblem(_ url: String) -> String? {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host,
            !host.isEmpty
        else {
            return "is not an absolute URL"
        }
        guard parsed.user == nil, parsed.password == nil, parsed.fragment == nil else {
            return "must not carry user information or a fragment"
        }
        switch scheme {
        case "https": return nil
        case "http" where EndpointURL.isLoopback(host: host.lowercased()): return nil
        case "http": return "must use https (plain http is allowed only to a loopback address)"
        default: return "must be an https URL, not \(scheme.sanitizedForMessage)"
        }
    }

    /// An AWS-style name (region, service): lowercase letters, digits and `-`.
    package func awsName(_ name: String, example: String) throws(SettingIssue) -> String {
        let value = try required(name, example: example)
        guard Self.isAWSName(value) else {
            throw SettingIssue(
                parameter: name, "\(value.sanitizedForMessage) must be lowercase letters, digits and '-'")
        }
        return value
    }

    /// Lowercase letters, digits and `-`: AWS's region and service names.
    package static func isAWSName(_ value: String) -> Bool {
        !value.isEmpty
            && value.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
