import Crypto
import Foundation
import SigilCore
import SigilModel
import SigilSigning

/// An OAuth 2.0 principal's settings, from its parameters (a principal's override its external
/// credential's). See README.md, "OAuth 2.0".
struct OAuthSettings {
    enum Grant: String, CaseIterable {
        case clientCredentials = "client_credentials"
        case jwtBearer = "jwt-bearer"
        case saml2Bearer = "saml2-bearer"
        case samlAssertion = "saml-assertion"
        case authorizationCode = "authorization_code"
        case deviceCode = "device_code"

        /// Grants Sigil can run on its own, without a user at a browser.
        var isUnattended: Bool { ![.authorizationCode, .deviceCode].contains(self) }
    }

    enum ClientAuthentication: String, CaseIterable {
        case basic, post
        case privateKeyJWT = "private_key_jwt"
        case none
    }

    var owner: String
    var tokenURL: String
    var grant: Grant
    var clientID: String
    var clientAuthentication: ClientAuthentication
    var scope: String?
    var audience: String?
    var resource: String?
    /// `tokenParameters`: further form fields for the token endpoint, as `name=value&...`.
    var extra: [(name: String, value: String)]
    var authorizeURL: String?
    var deviceURL: String?
    var revokeURL: String?
    /// Seconds before expiry at which a token is replaced.
    var refreshMargin: Int64
    /// The subject of JWT and SAML bearer assertions: the acting user for a per-user principal,
    /// else the principal's `subject` parameter.
    var subject: String?
    /// `assertionAlgorithm` for JWT assertions (default RS256).
    var assertionAlgorithm: String

    init(_ request: IssuanceRequest) throws {
        let owner = "principal \(request.key.principal)"
        self.owner = owner
        func required(_ name: String) throws -> String {
            guard let value = request.parameter(name), !value.isEmpty else {
                throw SigilError(.invalidConfiguration, "\(owner): OAuth 2.0 parameter \(name) is missing")
            }
            return value
        }
        tokenURL = try required("tokenUrl")
        _ = try TokenEndpointClient.checkEndpoint(tokenURL, parameter: "tokenUrl", owner: owner)
        let grantName = request.parameter("grantType") ?? Grant.clientCredentials.rawValue
        guard let grant = Grant(rawValue: grantName) else {
            throw SigilError(.invalidConfiguration, "\(owner): grantType \(grantName.sanitizedForMessage) is not one of \(Grant.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.grant = grant
        clientID = try required("clientId")
        let authName = request.parameter("clientAuth") ?? ClientAuthentication.basic.rawValue
        guard let authentication = ClientAuthentication(rawValue: authName) else {
            throw SigilError(.invalidConfiguration, "\(owner): clientAuth \(authName.sanitizedForMessage) is not one of \(ClientAuthentication.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        clientAuthentication = authentication
        scope = request.parameter("scope")
        audience = request.parameter("audience")
        resource = request.parameter("resource")
        extra = []
        if let text = request.parameter("tokenParameters") {
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, let name = String(parts[0]).removingPercentEncoding, let value = String(parts[1]).removingPercentEncoding else {
                    throw SigilError(.invalidConfiguration, "\(owner): tokenParameters must be name=value pairs joined by &")
                }
                guard !Self.reservedFields.contains(name) else {
                    throw SigilError(.invalidConfiguration, "\(owner): tokenParameters may not set \(name); Sigil sets it")
                }
                extra.append((name, value))
            }
        }
        for name in ["authorizeUrl", "deviceUrl", "revokeUrl"] {
            if let url = request.parameter(name) { _ = try TokenEndpointClient.checkEndpoint(url, parameter: name, owner: owner) }
        }
        authorizeURL = request.parameter("authorizeUrl")
        deviceURL = request.parameter("deviceUrl")
        revokeURL = request.parameter("revokeUrl")
        if let text = request.parameter("refreshMargin") {
            guard let seconds = Int64(text), (0...86_400).contains(seconds) else {
                throw SigilError(.invalidConfiguration, "\(owner): refreshMargin must be a whole number of seconds from 0 to 86400")
            }
            refreshMargin = seconds
        } else {
            refreshMargin = 60
        }
        subject = request.principal.type == .perUser ? request.key.user : request.parameter("subject")
        assertionAlgorithm = request.parameter("assertionAlgorithm") ?? "RS256"
    }

    static let reservedFields: Set<String> = [
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "assertion", "assertion_type",
        "refresh_token", "code", "code_verifier", "redirect_uri", "device_code",
    ]

    /// What a stored token depends on: a token obtained under other settings is not used.
    var digest: String {
        let text = (["oauth2/1", tokenURL, grant.rawValue, clientID, clientAuthentication.rawValue, scope ?? "", audience ?? "", resource ?? "", subject ?? ""]
            + extra.map { "\($0.name)=\($0.value)" }).joined(separator: "\u{0}")
        return Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }
}
