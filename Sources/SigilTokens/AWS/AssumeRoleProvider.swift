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
        var call = AWSQueryCall(
            endpoint: p.endpoint, region: p.region, service: "sts", action: "AssumeRole", version: "2011-06-15",
            parameters: [
                ("RoleArn", p.roleARN), ("RoleSessionName", p.sessionName), ("DurationSeconds", "\(p.duration)"),
            ])
        if let externalID = p.externalID { call.parameters.append(("ExternalId", externalID)) }
        let credentials = SigV4Signer.Credentials(
            accessKeyID: accessKeyID.withUnsafeBytes { String(decoding: $0, as: UTF8.self) },
            secretAccessKey: secretAccessKey,
            sessionToken: sessionToken.map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
        )
        let answer = try await call.send(with: credentials, client: client, at: now, purpose: purpose)
        guard answer.status == 200 else { throw AWSQueryCall.refusal(answer, purpose: purpose) }
        let document = answer.document
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
