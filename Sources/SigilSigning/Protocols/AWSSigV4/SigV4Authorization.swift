import Crypto
import SigilCore
import SigilModel

/// AWS Signature Version 4 for an external credential with protocol `aws-sigv4`.
///
/// Parameters: `region` and `service` (required), `payloadSigning` (`signed`, the default: the
/// SHA-256 of the body is signed; `unsigned`: `UNSIGNED-PAYLOAD`, for large or streamed uploads).
/// Secrets: `accessKeyId`, `secretAccessKey`, and `sessionToken` for temporary credentials.
enum SigV4Authorization {
    static func signer(_ context: CredentialContext) throws -> SigV4Signer {
        let owner = "external credential \(context.external.name)"
        guard let region = context.parameter("region"), !region.isEmpty else {
            throw SigilError(.signingFailed, "\(owner): parameter region is missing (e.g. us-east-1)")
        }
        guard let service = context.parameter("service"), !service.isEmpty else {
            throw SigilError(.signingFailed, "\(owner): parameter service is missing (e.g. s3, sts, execute-api)")
        }
        for (name, value) in [("region", region), ("service", service)] where !value.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) {
            throw SigilError(.signingFailed, "\(owner): parameter \(name) \(value.sanitizedForMessage) must be lowercase letters, digits and '-'")
        }
        let accessKeyID = try context.requireSecret("accessKeyId", for: "AWS Signature Version 4")
            .withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let secretAccessKey = try context.requireSecret("secretAccessKey", for: "AWS Signature Version 4")
        let sessionToken = try context.secret("sessionToken").map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
        return SigV4Signer(
            credentials: .init(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken),
            region: region, service: service
        )
    }

    /// What the canonical request names as the payload: `UNSIGNED-PAYLOAD` when configured, else
    /// the SHA-256 of the body (given, or declared for a streamed body).
    static func payloadHash(_ context: CredentialContext, body: [UInt8]?, declared: OutboundRequest.Body) throws -> String {
        switch context.parameter("payloadSigning") ?? "signed" {
        case "unsigned": return SigV4Signer.unsignedPayload
        case "signed": break
        case let other:
            throw SigilError(.signingFailed, "external credential \(context.external.name): payloadSigning is signed or unsigned, not \(other.sanitizedForMessage)")
        }
        if case .sha256(let hex) = declared {
            guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
                throw SigilError(.signingFailed, "the declared body hash must be 64 lowercase hex digits (SHA-256)")
            }
            return hex
        }
        if declared == .streamed {
            throw SigilError(.signingFailed, "external credential \(context.external.name) signs the payload (payloadSigning: signed), but the body is streamed and its SHA-256 is not known: declare it (sigil call --payload-sha256) or set payloadSigning: unsigned")
        }
        guard let body, !body.isEmpty else { return SigV4Signer.emptyPayloadHash }
        return Hex.encode(SHA256.hash(data: body))
    }
}
