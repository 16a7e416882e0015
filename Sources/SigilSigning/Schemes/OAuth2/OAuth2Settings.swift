import Crypto
import Foundation
import SigilCore
package import SigilModel

/// An OAuth 2.0 principal's settings (RFC 6749; assertions per RFC 7523 and RFC 7522; device
/// authorization per RFC 8628; revocation per RFC 7009), from its parameters (a principal's
/// override its external credential's). See README.md, "OAuth 2.0". `SigilTokens` runs the grants
/// with them.
package struct OAuth2Settings: Sendable {
    package enum Grant: String, CaseIterable, Sendable {
        case clientCredentials = "client_credentials"
        case jwtBearer = "jwt-bearer"
        case saml2Bearer = "saml2-bearer"
        case samlAssertion = "saml-assertion"
        case authorizationCode = "authorization_code"
        case deviceCode = "device_code"

        /// Grants Sigil can run on its own, without a user at a browser.
        package var isUnattended: Bool { ![.authorizationCode, .deviceCode].contains(self) }
        /// Grants that send an assertion about a subject (RFC 7523, RFC 7522).
        package var needsSubject: Bool { [.jwtBearer, .saml2Bearer, .samlAssertion].contains(self) }
    }

    package enum ClientAuthentication: String, CaseIterable, Sendable {
        case basic, post
        case privateKeyJWT = "private_key_jwt"
        case none
    }

    /// `principal E/P`, for messages.
    package let owner: String
    package let tokenURL: String
    package let grant: Grant
    package let clientID: String
    package let clientAuthentication: ClientAuthentication
    package let scope: String?
    package let audience: String?
    package let resource: String?
    /// `tokenParameters`: further form fields for the token endpoint, as `name=value&...`.
    package let extra: [(name: String, value: String)]
    package let authorizeURL: String?
    package let deviceURL: String?
    package let revokeURL: String?
    /// Seconds before expiry at which a token is replaced.
    package let refreshMargin: Int64
    /// `assertionAlgorithm` for JWT assertions (default RS256).
    package let assertionAlgorithm: JWTAlgorithm
    /// The `subject` parameter of a named principal (a per-user principal's subject is its user).
    let subjectParameter: String?
    let perUser: Bool

    init(_ parameters: SchemeParameters) throws(SettingIssue) {
        owner =
            "principal \(PrincipalRef(externalCredential: parameters.external.name, principal: parameters.principal.name))"
        tokenURL = try parameters.required("tokenUrl", example: "https://login.example.com/oauth2/token")
        _ = try parameters.endpoint("tokenUrl")
        grant = try parameters.choice("grantType", default: .clientCredentials)
        clientID = try parameters.required("clientId")
        clientAuthentication = try parameters.choice("clientAuth", default: .basic)
        scope = parameters["scope"]
        audience = parameters["audience"]
        resource = parameters["resource"]
        var extra: [(name: String, value: String)] = []
        if let text = parameters["tokenParameters"] {
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty,
                    let name = String(validating: PercentEncoding.decode(parts[0]), as: UTF8.self),
                    let value = String(validating: PercentEncoding.decode(parts[1]), as: UTF8.self)
                else {
                    throw SettingIssue(parameter: "tokenParameters", "must be name=value pairs joined by &")
                }
                guard !Self.reservedFields.contains(name) else {
                    throw SettingIssue(
                        parameter: "tokenParameters", "may not set \(name.sanitizedForMessage); Sigil sets it")
                }
                extra.append((name, value))
            }
        }
        self.extra = extra
        authorizeURL = try parameters.endpoint("authorizeUrl")
        deviceURL = try parameters.endpoint("deviceUrl")
        revokeURL = try parameters.endpoint("revokeUrl")
        refreshMargin = Int64(try parameters.integer("refreshMargin", default: 60, range: 0...86_400))
        let algorithm = parameters["assertionAlgorithm"] ?? "RS256"
        guard let assertionAlgorithm = JWTAlgorithm(rawValue: algorithm), assertionAlgorithm.minimumHMACKeyBytes == nil
        else {
            throw SettingIssue(
                parameter: "assertionAlgorithm",
                "\(algorithm.sanitizedForMessage) is not one of \(JWTAlgorithm.allCases.filter { $0.minimumHMACKeyBytes == nil }.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.assertionAlgorithm = assertionAlgorithm
        perUser = parameters.principal.type == .perUser
        subjectParameter = parameters["subject"]
        if grant.needsSubject, !perUser, subjectParameter == nil {
            throw SettingIssue(
                parameter: "subject", "is missing: the \(grant.rawValue) grant of a named principal asserts a subject")
        }
    }

    /// The subject of JWT and SAML bearer assertions: the acting user for a per-user principal,
    /// else the principal's `subject` parameter.
    package func subject(for key: IssuedCredentialKey) -> String? {
        perUser ? key.user : subjectParameter
    }

    package static let reservedFields: Set<String> = [
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "assertion",
        "assertion_type",
        "refresh_token", "code", "code_verifier", "redirect_uri", "device_code",
    ]

    /// What a stored token for `key` depends on: a token obtained under other settings is not used.
    package func digest(for key: IssuedCredentialKey) -> String {
        let text =
            ([
                "oauth2/1", tokenURL, grant.rawValue, clientID, clientAuthentication.rawValue, scope ?? "",
                audience ?? "", resource ?? "", subject(for: key) ?? "",
            ]
            + extra.map { "\($0.name)=\($0.value)" }).joined(separator: "\u{0}")
        return Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }
}
