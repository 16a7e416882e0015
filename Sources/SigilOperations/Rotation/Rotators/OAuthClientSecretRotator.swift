import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTokens

/// Rotates an OAuth 2.0 client secret (`clientSecret`) without downtime, relying on the provider
/// accepting several secrets for a client at once (Salesforce connected apps, Okta, Microsoft Entra
/// and others do): the new secret is added at the provider, proved with a real token request
/// (``ClientAuthenticationProbe``, run by ``Rotation/test(_:request:in:broker:)`` for every OAuth 2.0
/// principal), made current, and the old one revoked after the grace period.
///
/// The provider's API is reached through named credentials (`clientSecrets.add`, `.revoke`), each
/// called with a form-encoded `POST` of `client_id` and `client_secret`; a 2xx answer is success,
/// and adding or revoking twice must be harmless (the provider's 409 or 404 then counts as done).
/// Without them the operator adds and revokes the secret at the provider by hand.
struct OAuthClientSecretRotator: ProviderRotator {
    func set(_ step: RotationStep) async throws {
        guard let url = step.policy.clientSecrets?.add else { return }
        guard let secret = try step.values(.pending)["clientSecret"] else { return }
        try await call(url, secret: secret, step, doneStatuses: [409], purpose: "adding the new client secret")
    }

    func retire(_ step: RotationStep, values: [String: SecretBytes], reason: RetireReason) async throws {
        guard let url = step.policy.clientSecrets?.revoke, let secret = values["clientSecret"] else { return }
        try await call(
            url, secret: secret, step, doneStatuses: [404],
            purpose: reason == .cleanUp ? "revoking the old client secret" : "revoking the abandoned new client secret")
        try step.vault.recordRotationEvent(
            "rotation.provider-retire", owner: step.owner, detail: ["field": "clientSecret", "reason": reason.rawValue])
    }

    private func call(
        _ url: String, secret: SecretBytes, _ step: RotationStep, doneStatuses: Set<Int>, purpose: String
    ) async throws {
        guard let clientID = try step.parameter("clientId") else {
            throw SigilError(.invalidParameter, "\(step.owner) has no clientId parameter")
        }
        var body = secret.withUnsafeBytes { bytes in
            PercentEncoding.form([("client_id", clientID), ("client_secret", String(decoding: bytes, as: UTF8.self))])
        }
        defer { body.wipe() }
        let status = try await RotationCall.send(
            OutboundRequest(
                method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: .bytes(body)), source: step.vault, as: nil)
        guard (200..<300).contains(status) || doneStatuses.contains(status) else {
            throw SigilError(
                .providerFailed, "\(purpose) of \(step.owner) at \(url.sanitizedForMessage) was answered \(status)")
        }
    }
}
