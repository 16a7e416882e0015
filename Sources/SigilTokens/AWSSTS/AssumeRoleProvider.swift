import Crypto
import Foundation
import SigilCore
import SigilModel
import SigilSigning

/// AWS STS `AssumeRole` for a SigV4 principal with a `roleArn`: temporary credentials obtained with
/// the principal's stored keys, which then sign the principal's requests.
///
/// Its parameters are ``AssumeRoleSettings`` (the SigV4 scheme's folder). Stored secrets used for
/// the call: `accessKeyId`,
/// `secretAccessKey`, and `sessionToken` when the stored keys are themselves temporary.
struct AssumeRoleProvider: CredentialProvider {
    let client: TokenEndpointClient
    let clock: @Sendable () -> Date

    func parameters(_ request: IssuanceRequest) throws -> AssumeRoleSettings {
        guard let settings = try request.scheme(SigV4Scheme.self).assumeRole else {
            throw SigilError(
                .unsupported, "principal \(request.key.principal) has no roleArn; no STS credentials are issued for it")
        }
        return settings
    }

    func parametersDigest(_ request: IssuanceRequest) throws -> String {
        try parameters(request).digest
    }

    func refreshMargin(_ request: IssuanceRequest) throws -> Int64 {
        try parameters(request).margin
    }

    func obtain(_ request: IssuanceRequest, previous: IssuedCredential?, now: Date) async throws -> IssuedCredential {
        let p = try parameters(request)
        let purpose = "STS AssumeRole of \(p.roleARN) for principal \(request.key.principal)"
        let accessKeyID = try request.requireStoredSecret("accessKeyId", for: purpose)
        let secretAccessKey = try request.requireStoredSecret("secretAccessKey", for: purpose)
        let sessionToken = try request.storedSecret("sessionToken")
        var form: [(name: String, value: String)] = [
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", p.roleARN),
            ("RoleSessionName", p.sessionName), ("DurationSeconds", "\(p.duration)"),
        ]
        if let externalID = p.externalID { form.append(("ExternalId", externalID)) }
        let body = PercentEncoding.form(form)
        let signer = SigV4Signer(
            credentials: .init(
                accessKeyID: accessKeyID.withUnsafeBytes { String(decoding: $0, as: UTF8.self) },
                secretAccessKey: secretAccessKey,
                sessionToken: sessionToken.map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
            ),
            region: p.region, service: "sts"
        )
        let url = p.endpoint.hasSuffix("/") ? p.endpoint : p.endpoint + "/"
        let signed = signer.sign(
            SigV4Signer.Request(
                method: "POST", url: url,
                headers: [
                    ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "application/xml"),
                ],
                payloadHash: Hex.encode(SHA256.hash(data: body))
            ), at: now)
        let response = try await client.send(
            .init(method: "POST", url: signed.url, headers: signed.headers, body: body), purpose: purpose)
        let document = STSResponse(parsing: response.body)
        guard response.status == 200 else {
            let detail = document.error.map { "\($0.code): \($0.message)" } ?? "no AWS error in the response"
            throw SigilError(
                .providerFailed,
                "\(purpose) was refused: HTTP \(response.status), \(ProviderText.redactingTokens(detail).sanitizedForMessage.prefix(400))"
            )
        }
        guard let keyID = document.values["AccessKeyId"], let secret = document.values["SecretAccessKey"],
            let token = document.values["SessionToken"], let expiration = document.values["Expiration"],
            let expires = Self.parseExpiration(expiration)
        else {
            throw SigilError(
                .providerFailed,
                "\(purpose): the response lacks AccessKeyId, SecretAccessKey, SessionToken or a valid Expiration")
        }
        return IssuedCredential(
            kind: .awsSTS,
            fields: ["accessKeyId": keyID, "secretAccessKey": secret, "sessionToken": token],
            obtainedAt: Int64(clock().timeIntervalSince1970), expiresAt: Int64(expires.timeIntervalSince1970)
        )
    }

    /// `2026-11-30T12:00:00Z`, with or without fractional seconds.
    static func parseExpiration(_ value: SecretBytes) -> Date? {
        let text = value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        return (try? Date(text, strategy: .iso8601))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
