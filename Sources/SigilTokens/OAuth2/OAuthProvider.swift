import Foundation
public import SigilCore
import SigilModel
import SigilSigning

/// OAuth 2.0 access tokens (RFC 6749) for a principal of an `oauth2` external credential.
///
/// With a refresh token from an earlier answer, the token is refreshed (RFC 6749 section 6; a
/// rotated refresh token replaces the old one in the same write, a missing one keeps it). Without
/// one, or when the refresh token is refused and the grant needs no user, the principal's grant
/// runs: client credentials (section 4.4), or a JWT bearer assertion (RFC 7523 section 2.1).
/// Grants that need a user at a browser (authorization code, device) are started with
/// `sigil auth login`; when their refresh token dies the authorization needs renewing.
struct OAuthProvider: CredentialProvider {
    let client: TokenEndpointClient
    let clock: @Sendable () -> Date

    func parametersDigest(_ request: IssuanceRequest) throws -> String {
        try request.scheme(OAuth2Scheme.self).settings.digest(for: request.key)
    }
    func refreshMargin(_ request: IssuanceRequest) throws -> Int64 {
        try request.scheme(OAuth2Scheme.self).settings.refreshMargin
    }

    func obtain(_ request: IssuanceRequest, previous: IssuedCredential?, now: Date) async throws -> IssuedCredential {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        if let refreshToken = previous?.fields["refreshToken"] {
            do {
                var credential = try await tokenRequest(
                    settings, request, grant: [("grant_type", "refresh_token"), ("refresh_token", refreshToken.text)],
                    purpose: "refreshing the OAuth 2.0 token of \(request.key)", keeping: refreshToken)
                // The refresh token kept (none came back): so is its expiry.
                if credential.fields["refreshToken"] == refreshToken, credential.refreshExpiresAt == nil {
                    credential.refreshExpiresAt = previous?.refreshExpiresAt
                }
                return credential
            } catch let error as OAuthRefusal where error.answer.code == "invalid_grant" {
                guard settings.grant.isUnattended else {
                    throw SigilError(
                        .reauthorizationRequired,
                        "the OAuth 2.0 authorization of \(request.key) is no longer valid (invalid_grant on refresh); authorize again with `sigil auth login \(request.key.principal.externalCredential)\(request.key.user.map { " --as \($0)" } ?? "")`"
                    )
                }
                // The grant can run again without a user: fall through to it.
            }
        }
        let purpose = "the OAuth 2.0 \(settings.grant.rawValue) grant for \(request.key)"
        switch settings.grant {
        case .clientCredentials:
            return try await tokenRequest(
                settings, request, grant: [("grant_type", "client_credentials")], purpose: purpose, keeping: nil)
        case .jwtBearer:
            guard let subject = settings.subject(for: request.key) else {
                throw SigilError(
                    .invalidParameter,
                    "\(settings.owner): the jwt-bearer grant needs a subject (parameter subject, or a per-user principal)"
                )
            }
            let key = try request.requireStoredSecret("privateKey", for: "the JWT bearer grant")
            let assertion = try JWTAssertion.sign(
                claims: [("iss", settings.clientID), ("sub", subject), ("aud", settings.tokenURL)], lifetime: 180,
                at: clock(),
                key: key, algorithm: settings.assertionAlgorithm.rawValue, keyID: request.parameter("kid"),
                owner: settings.owner
            )
            return try await tokenRequest(
                settings, request,
                grant: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)],
                purpose: purpose, keeping: nil)
        case .saml2Bearer, .samlAssertion:
            guard let subject = settings.subject(for: request.key) else {
                throw SigilError(
                    .invalidParameter,
                    "\(settings.owner): the \(settings.grant.rawValue) grant needs a subject (parameter subject, or a per-user principal)"
                )
            }
            let key = try request.requireStoredSecret("privateKey", for: "the SAML assertion")
            let certificate = try request.storedSecret("certificate")?.text ?? request.parameter("certificate")
            let assertion = SAMLAssertion(
                issuer: request.parameter("samlIssuer") ?? settings.clientID, subject: subject,
                audience: request.parameter("samlAudience") ?? settings.tokenURL,
                recipient: request.parameter("samlRecipient") ?? settings.tokenURL,
                now: clock()
            )
            let signed = try assertion.signed(with: key, certificatePEM: certificate, owner: settings.owner)
            let grant: [(name: String, value: String)] =
                settings.grant == .saml2Bearer
                // RFC 7522 section 2.1: one assertion, base64url.
                ? [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:saml2-bearer"),
                    ("assertion", Base64URL.encode(Array(signed.utf8))),
                ]
                // Salesforce's assertion flow: a Web SSO response, base64 (then form-encoded).
                : [
                    ("grant_type", "assertion"), ("assertion_type", "urn:oasis:names:tc:SAML:2.0:profiles:SSO:browser"),
                    ("assertion", Data(assertion.response(wrapping: signed).utf8).base64EncodedString()),
                ]
            return try await tokenRequest(settings, request, grant: grant, purpose: purpose, keeping: nil)
        case .authorizationCode, .deviceCode:
            throw SigilError(
                .reauthorizationRequired,
                "\(request.key) has no OAuth 2.0 authorization yet; authorize with `sigil auth login \(request.key.principal.externalCredential)\(request.key.user.map { " --as \($0)" } ?? "")`"
            )
        }
    }

    /// Revokes `credential`'s refresh token, else its access token (RFC 7009), at `revokeUrl`.
    func revoke(_ request: IssuanceRequest, _ credential: IssuedCredential) async throws -> String {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        guard let revokeURL = settings.revokeURL else { return "not revoked: the credential has no revokeUrl" }
        // The token and the client's credentials go only to the host that issued the token.
        guard let revoke = URL(string: revokeURL), let issuer = URL(string: settings.tokenURL),
            revoke.scheme?.lowercased() == issuer.scheme?.lowercased(),
            revoke.host?.lowercased() == issuer.host?.lowercased(), revoke.port == issuer.port
        else {
            return
                "not revoked: revokeUrl is not on the token endpoint's host (\(TokenEndpointClient.hostDescription(settings.tokenURL)))"
        }
        let (token, hint) =
            credential.fields["refreshToken"].map { ($0, "refresh_token") }
            ?? (credential.fields["accessToken"].map { ($0, "access_token") } ?? (nil, ""))
        guard let token else { return "nothing to revoke" }
        let response = try await post(
            settings, request, to: revokeURL, form: [("token", token.text), ("token_type_hint", hint)],
            purpose: "revoking the tokens of \(request.key)")
        guard response.status == 200 else {
            return
                "failed: HTTP \(response.status)\(TokenResponse.error(in: response.body).map { ", \($0.message)" } ?? "")"
        }
        return "revoked (\(hint))"
    }

    /// A refused token request: the provider's RFC 6749 error.
    struct OAuthRefusal: Error {
        var status: Int
        var answer: TokenResponse.ErrorAnswer
    }

    /// POSTs `grant` (plus scope, audience, resource, extra fields and client authentication) to
    /// the token endpoint and parses the answer.
    func tokenRequest(
        _ settings: OAuth2Settings, _ request: IssuanceRequest, grant: [(name: String, value: String)], purpose: String,
        keeping refreshToken: SecretBytes?
    ) async throws -> IssuedCredential {
        var form = grant
        for (name, value) in [
            ("scope", settings.scope), ("audience", settings.audience), ("resource", settings.resource),
        ] {
            if let value { form.append((name, value)) }
        }
        form += settings.extra
        let response = try await post(settings, request, to: settings.tokenURL, form: form, purpose: purpose)
        guard response.status == 200 else {
            if let answer = TokenResponse.error(in: response.body) {
                if (answer.code == "invalid_grant" && grant.first?.value == "refresh_token")
                    || grant.first?.value == "urn:ietf:params:oauth:grant-type:device_code"
                {
                    throw OAuthRefusal(status: response.status, answer: answer)
                }
                throw SigilError(.providerFailed, "\(purpose) was refused: HTTP \(response.status), \(answer.message)")
            }
            throw SigilError(
                .providerFailed, "\(purpose) was refused: HTTP \(response.status), without an OAuth 2.0 error")
        }
        return try TokenResponse(parsing: response.body, purpose: purpose)
            .credential(obtainedAt: Int64(clock().timeIntervalSince1970), keepingRefreshToken: refreshToken)
    }

    /// POSTs `form` to a provider endpoint (token, device, revocation) with the principal's client
    /// authentication.
    func post(
        _ settings: OAuth2Settings, _ request: IssuanceRequest, to url: String, form: [(name: String, value: String)],
        purpose: String
    ) async throws -> TokenEndpointClient.Response {
        var form = form
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ]
        switch settings.clientAuthentication {
        case .basic:
            // RFC 6749 section 2.3.1: each part form-encoded, then Basic.
            let secret = try request.requireStoredSecret("clientSecret", for: "client authentication (basic)")
            let pair = Self.formComponent(settings.clientID) + [UInt8(ascii: ":")] + Self.formComponent(secret.text)
            headers.append(("Authorization", "Basic " + Data(pair).base64EncodedString()))
        case .post:
            let secret = try request.requireStoredSecret("clientSecret", for: "client authentication (post)")
            form += [("client_id", settings.clientID), ("client_secret", secret.text)]
        case .privateKeyJWT:
            // RFC 7523 section 2.2: a short-lived assertion about the client, for the token endpoint.
            let key = try request.requireStoredSecret("privateKey", for: "client authentication (private_key_jwt)")
            let assertion = try JWTAssertion.sign(
                claims: [("iss", settings.clientID), ("sub", settings.clientID), ("aud", settings.tokenURL)],
                lifetime: 60, at: clock(),
                key: key, algorithm: settings.assertionAlgorithm.rawValue, keyID: request.parameter("kid"),
                owner: settings.owner
            )
            form += [
                ("client_id", settings.clientID),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", assertion),
            ]
        case .none:
            form.append(("client_id", settings.clientID))
        }
        var response = try await client.send(
            .init(method: "POST", url: url, headers: headers, body: PercentEncoding.form(form)), purpose: purpose)
        if response.status != 200 {
            // A provider that quotes what it was sent back in its error (some echo the client
            // secret) must not make Sigil print it: every secret sent is cut out of the answer.
            var sent = form.filter { Self.secretFormFields.contains($0.name) }.map(\.value)
            if settings.clientAuthentication == .basic,
                let secret = try? request.requireStoredSecret("clientSecret", for: "")
            {
                sent.append(secret.text)
            }
            response.body = ProviderText.removing(sent, from: response.body)
        }
        return response
    }

    /// Form fields whose values are secrets (RFC 6749, 7009, 7523, 7636, 8628).
    static let secretFormFields: Set<String> = [
        "client_secret", "client_assertion", "refresh_token", "code", "code_verifier", "assertion", "device_code",
        "password", "token",
    ]

    static func formComponent(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        PercentEncoding.append(text.utf8, to: &out)
        return out
    }
}

extension SigilError.Code {
    /// A per-user authorization (or a principal's refresh token) is no longer valid: a person has
    /// to authorize again.
    public static let reauthorizationRequired = Self("reauthorization-required")
}

extension SecretBytes {
    /// The value as text, for a form field or header the HTTP client needs as a string.
    var text: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}
