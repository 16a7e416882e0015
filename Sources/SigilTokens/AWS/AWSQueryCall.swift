import Crypto
import Foundation
import SigilCore
import SigilModel
import SigilSigning

/// One call of an AWS query-protocol API (STS, IAM): a form-encoded `POST` of `Action`, `Version`
/// and the action's parameters, signed with SigV4 (AWS Signature Version 4, "Create a signed AWS
/// API request") by Sigil's own signer, answered with XML (``AWSQueryResponse``).
struct AWSQueryCall {
    var endpoint: String
    var region: String
    /// The signing name of the service: `sts`, `iam`.
    var service: String
    var action: String
    var version: String
    var parameters: [(name: String, value: String)] = []

    /// An answer: its HTTP status and document.
    struct Answer {
        var status: Int
        var document: AWSQueryResponse

        /// The AWS error code of a refusal (`LimitExceeded`, `NoSuchEntity`), if any.
        var errorCode: String? { status == 200 ? nil : document.error?.code }
    }

    /// Sends the call signed with `credentials`, described in errors as `purpose`.
    func send(
        with credentials: SigV4Signer.Credentials, client: TokenEndpointClient, at now: Date, purpose: String
    ) async throws -> Answer {
        let body = PercentEncoding.form([("Action", action), ("Version", version)] + parameters)
        let signer = SigV4Signer(credentials: credentials, region: region, service: service)
        let url = endpoint.hasSuffix("/") ? endpoint : endpoint + "/"
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
        return Answer(status: response.status, document: AWSQueryResponse(parsing: response.body))
    }

    /// The refusal in `answer` as an error: `purpose was refused: HTTP 409, LimitExceeded: ...`.
    static func refusal(_ answer: Answer, purpose: String) -> SigilError {
        let detail = answer.document.error.map { "\($0.code): \($0.message)" } ?? "no AWS error in the response"
        return SigilError(
            .providerFailed,
            "\(purpose) was refused: HTTP \(answer.status), \(ProviderText.redactingTokens(detail).sanitizedForMessage.prefix(400))"
        )
    }
}
