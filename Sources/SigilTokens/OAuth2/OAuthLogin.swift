import Crypto
import Foundation
import SigilCore
import SigilModel
public import SigilSigning

/// The flows where a person authorizes: the authorization code grant with PKCE (RFC 6749 section
/// 4.1, RFC 7636 with S256) and the device authorization grant (RFC 8628). The tokens obtained are
/// stored through the broker, sealed, as the user's authorization of the principal.
public struct OAuthLogin: Sendable {
    let broker: CredentialBroker

    public init(broker: CredentialBroker) {
        self.broker = broker
    }

    var provider: OAuthProvider { OAuthProvider(client: broker.client, clock: broker.clock) }

    // MARK: Authorization code with PKCE

    /// An authorization in progress: the URL to open, and what the callback must match.
    public struct CodeAuthorization: Sendable {
        public let url: String
        public let redirectURI: String
        /// The `state` the callback must carry (RFC 6749 section 10.12).
        public let state: String
        let verifier: SecretBytes
    }

    /// The authorization URL, with a fresh `state` and PKCE verifier. `redirectURI` defaults to the
    /// principal's `redirectUri` parameter.
    public func beginCode(_ request: IssuanceRequest, redirectURI: String? = nil, loginHint: String? = nil) throws
        -> CodeAuthorization
    {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        guard settings.grant == .authorizationCode else {
            throw SigilError(
                .invalidParameter,
                "\(settings.owner): grantType is \(settings.grant.rawValue); the browser login is for authorization_code"
            )
        }
        guard let authorizeURL = settings.authorizeURL else {
            throw SigilError(.invalidParameter, "\(settings.owner): OAuth 2.0 parameter authorizeUrl is missing")
        }
        guard let redirect = redirectURI ?? request.parameter("redirectUri") else {
            throw SigilError(
                .invalidParameter,
                "\(settings.owner): OAuth 2.0 parameter redirectUri is missing (e.g. http://127.0.0.1:53682/callback)")
        }
        let verifier = Self.randomToken(bytes: 32)
        let state = Self.randomToken(bytes: 24)
        let challenge = Base64URL.encode(Array(SHA256.hash(data: Array(verifier.utf8))))
        var query: [(name: String, value: String)] = [
            ("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", redirect), ("state", state),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ]
        if let scope = settings.scope { query.append(("scope", scope)) }
        if let loginHint { query.append(("login_hint", loginHint)) }
        let separator = authorizeURL.contains("?") ? "&" : "?"
        return CodeAuthorization(
            url: authorizeURL + separator + String(decoding: PercentEncoding.form(query), as: UTF8.self),
            redirectURI: redirect,
            state: state, verifier: SecretBytes(utf8: verifier)
        )
    }

    /// Completes the authorization with the callback's query parameters: checks `state`, reports
    /// the provider's `error`, exchanges the code (with the verifier), and stores the tokens.
    public func completeCode(_ request: IssuanceRequest, _ authorization: CodeAuthorization, callback: [String: String])
        async throws
    {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        guard let state = callback["state"], SecretBytes(utf8: state) == SecretBytes(utf8: authorization.state) else {
            throw SigilError(
                .providerFailed,
                "the authorization callback's state does not match the request (a forged or stale callback); nothing was stored"
            )
        }
        if let error = callback["error"] {
            throw SigilError(
                .providerFailed,
                "the authorization was refused: \(error.sanitizedForMessage.prefix(80))\(callback["error_description"].map { " (\($0.sanitizedForMessage.prefix(200)))" } ?? "")"
            )
        }
        guard let code = callback["code"], !code.isEmpty else {
            throw SigilError(.providerFailed, "the authorization callback has no code")
        }
        let credential = try await provider.tokenRequest(
            settings, request,
            grant: [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", authorization.redirectURI),
                ("code_verifier", authorization.verifier.text),
            ], purpose: "exchanging the authorization code for \(request.key)", keeping: nil)
        try await broker.store(authorized: credential, for: request)
    }

    // MARK: Device authorization

    /// What the person must do: open `verificationURI` and enter `userCode`.
    public struct DeviceAuthorization: Sendable {
        public let userCode: String
        public let verificationURI: String
        public let verificationURIComplete: String?
        public let expiresIn: Int
        let deviceCode: SecretBytes
        let interval: Int
    }

    public func beginDevice(_ request: IssuanceRequest) async throws -> DeviceAuthorization {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        guard settings.grant == .deviceCode || settings.grant == .authorizationCode else {
            throw SigilError(
                .invalidParameter,
                "\(settings.owner): grantType is \(settings.grant.rawValue); the device login is for device_code (or authorization_code)"
            )
        }
        guard let deviceURL = settings.deviceURL else {
            throw SigilError(.invalidParameter, "\(settings.owner): OAuth 2.0 parameter deviceUrl is missing")
        }
        let purpose = "the device authorization request for \(request.key)"
        let response = try await provider.post(
            settings, request, to: deviceURL, form: settings.scope.map { [("scope", $0)] } ?? [], purpose: purpose)
        guard response.status == 200 else {
            throw SigilError(
                .providerFailed,
                "\(purpose) was refused: HTTP \(response.status)\(TokenResponse.error(in: response.body).map { ", \($0.message)" } ?? "")"
            )
        }
        struct Wire: Decodable {
            var device_code: String
            var user_code: String
            var verification_uri: String
            var verification_uri_complete: String?
            var expires_in: Int
            var interval: Int?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(response.body)),
            TokenResponse.isToken(wire.device_code)
        else {
            throw SigilError(
                .providerFailed,
                "\(purpose): the answer lacks device_code, user_code, verification_uri or expires_in (RFC 8628 section 3.2)"
            )
        }
        return DeviceAuthorization(
            userCode: wire.user_code.sanitizedForMessage, verificationURI: wire.verification_uri.sanitizedForMessage,
            verificationURIComplete: wire.verification_uri_complete?.sanitizedForMessage, expiresIn: wire.expires_in,
            deviceCode: SecretBytes(utf8: wire.device_code), interval: max(1, wire.interval ?? 5)
        )
    }

    /// Polls the token endpoint until the person approves (tokens stored), denies, or the code
    /// expires (RFC 8628 section 3.4 and 3.5: `authorization_pending` waits, `slow_down` adds 5 s).
    public func completeDevice(_ request: IssuanceRequest, _ device: DeviceAuthorization) async throws {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        var interval = device.interval
        let deadline = Date().addingTimeInterval(TimeInterval(device.expiresIn))
        while Date() < deadline {
            try await Task.sleep(for: .seconds(interval))
            do {
                let credential = try await provider.tokenRequest(
                    settings, request,
                    grant: [
                        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                        ("device_code", device.deviceCode.text),
                    ], purpose: "the device authorization of \(request.key)", keeping: nil)
                try await broker.store(authorized: credential, for: request)
                return
            } catch let refusal as OAuthProvider.OAuthRefusal where refusal.answer.code == "authorization_pending" {
                continue
            } catch let refusal as OAuthProvider.OAuthRefusal where refusal.answer.code == "slow_down" {
                interval += 5
            } catch let refusal as OAuthProvider.OAuthRefusal {
                throw SigilError(
                    .providerFailed, "the device authorization of \(request.key) ended: \(refusal.answer.message)")
            }
        }
        throw SigilError(.providerFailed, "the device authorization of \(request.key) expired before it was approved")
    }

    static func randomToken(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
