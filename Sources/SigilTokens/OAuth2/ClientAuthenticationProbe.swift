import Foundation
import SigilCore
import SigilModel
public import SigilSigning

/// Proves a principal's client credentials (client secret or private key) at its token endpoint,
/// for a rotation's test step: a real token request, whose token is not kept.
///
/// With the client credentials grant the request is the real one (RFC 6749 section 4.4). Other
/// grants need a user's code or token, so the probe sends a refresh token grant with a made-up
/// refresh token: the endpoint authenticates the client first (RFC 6749 sections 3.2.1 and 5.2),
/// so `invalid_grant` means the client was accepted, and `invalid_client` (or 401) that it was not.
public struct ClientAuthenticationProbe: Sendable {
    let broker: CredentialBroker

    public init(broker: CredentialBroker) {
        self.broker = broker
    }

    /// Throws ``SigilError/Code/providerFailed`` with the provider's answer when it refuses the
    /// client; returns what was proved.
    public func probe(_ request: IssuanceRequest) async throws -> String {
        let settings = try request.scheme(OAuth2Scheme.self).settings
        let provider = OAuthProvider(client: broker.client, clock: broker.clock)
        let purpose = "testing \(settings.owner)'s client credentials"
        if settings.grant == .clientCredentials {
            _ = try await provider.tokenRequest(
                settings, request, grant: [("grant_type", "client_credentials")], purpose: purpose, keeping: nil)
            return "a client credentials token request succeeded"
        }
        let madeUp = SecretBytes.random(count: 24).withUnsafeBytes { Base64URL.encode($0) }
        let response = try await provider.post(
            settings, request, to: settings.tokenURL,
            form: [("grant_type", "refresh_token"), ("refresh_token", "sigil-probe-" + madeUp)], purpose: purpose)
        let answer = TokenResponse.error(in: response.body)
        if response.status == 400, answer?.code == "invalid_grant" {
            return "the token endpoint accepted the client (and refused only the probe's made-up refresh token)"
        }
        throw SigilError(
            .providerFailed,
            "\(purpose): the token endpoint refused them: HTTP \(response.status)\(answer.map { ", \($0.message)" } ?? "")"
        )
    }
}
