import Crypto
package import Foundation
import SigilCore
package import SigilModel

/// AWS Signature Version 4 (docs.aws.amazon.com, "Signature Version 4 signing process"): the
/// request is signed last, over its final headers and body; or presigned into a URL.
///
/// Parameters: `region` and `service` (required), `payloadSigning` (`signed`, the default: the
/// SHA-256 of the body is signed; `unsigned`: `UNSIGNED-PAYLOAD`, for large or streamed uploads),
/// and with `roleArn` the STS `AssumeRole` settings (``AssumeRoleSettings``). Secrets:
/// `accessKeyId`, `secretAccessKey`, and `sessionToken` for temporary credentials.
package struct SigV4Scheme: AuthorizationScheme {
    package static let authProtocol = AuthProtocol.awsSigV4
    package static let secretsGoToResource = false

    enum PayloadSigning: String, CaseIterable {
        case signed, unsigned
    }

    let region: String
    let service: String
    let payloadSigning: PayloadSigning
    /// Set when the principal signs with temporary credentials STS issues for a role.
    package let assumeRole: AssumeRoleSettings?

    package init(_ parameters: SchemeParameters) throws(SettingIssue) {
        region = try parameters.awsName("region", example: "us-east-1")
        service = try parameters.awsName("service", example: "s3, sts, execute-api")
        payloadSigning = try parameters.choice("payloadSigning", default: .signed)
        assumeRole = parameters["roleArn"] == nil ? nil : try AssumeRoleSettings(parameters)
    }

    package var issuance: IssuedCredential.Kind? { assumeRole == nil ? nil : .awsSTS }
    package var signsPayloadHash: Bool { payloadSigning == .signed }

    func signer(_ context: CredentialContext) throws -> SigV4Signer {
        let accessKeyID = try context.requireSecret("accessKeyId", for: "AWS Signature Version 4")
            .withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let secretAccessKey = try context.requireSecret("secretAccessKey", for: "AWS Signature Version 4")
        let sessionToken = try context.secret("sessionToken").map {
            $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        return SigV4Signer(
            credentials: .init(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken),
            region: region, service: service
        )
    }

    package func sign(_ request: inout SignedRequest, _ context: CredentialContext, at date: Date, trace: SigningTrace?)
        throws
    {
        let hash = try payloadHash(context, body: request.body, declared: request.declared)
        let signed = try signer(context).sign(
            SigV4Signer.Request(method: request.method, url: request.url, headers: request.headers, payloadHash: hash),
            at: date, trace: trace)
        request.headers = signed.headers
        request.url = signed.url
    }

    package func presign(_ request: SignedRequest, _ context: CredentialContext, at date: Date, expires: Int) throws
        -> String
    {
        let hash = try payloadHash(context, body: request.body, declared: request.declared)
        return try signer(context).presign(
            SigV4Signer.Request(method: request.method, url: request.url, headers: request.headers, payloadHash: hash),
            at: date, expires: expires)
    }

    /// What the canonical request names as the payload: `UNSIGNED-PAYLOAD` when configured, else
    /// the SHA-256 of the body (given, or declared for a streamed body).
    func payloadHash(_ context: CredentialContext, body: [UInt8]?, declared: OutboundRequest.Body) throws -> String {
        if payloadSigning == .unsigned { return SigV4Signer.unsignedPayload }
        if case .sha256(let hex) = declared {
            guard hex.utf8.count == 64,
                hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
            else {
                throw SigilError(.invalidRequest, "the declared body hash must be 64 lowercase hex digits (SHA-256)")
            }
            return hex
        }
        if declared == .streamed {
            throw SigilError(
                .invalidRequest,
                "external credential \(context.external.name) signs the payload (payloadSigning: signed), but the body is streamed and its SHA-256 is not known: declare it (sigil call --payload-sha256) or set payloadSigning: unsigned"
            )
        }
        guard let body, !body.isEmpty else { return SigV4Signer.emptyPayloadHash }
        return Hex.encode(SHA256.hash(data: body))
    }
}
