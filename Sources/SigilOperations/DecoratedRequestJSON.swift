import Foundation
public import SigilSigning

/// A decorated request as `sigil sign --json` prints it and the service's `POST /v1/sign` answers:
/// `{"method", "url", "headers": [[name, value]], "body_base64"}`. It holds the credential: only
/// for the caller who asked for the decorated request.
public struct DecoratedRequestJSON: Codable, Sendable {
    public var method: String
    public var url: String
    public var headers: [[String]]
    public var body_base64: String?

    public init(_ request: DecoratedRequest) {
        method = request.method
        url = request.url
        headers = request.headers.map { [$0.name, $0.value] }
        body_base64 = request.body.map { Data($0).base64EncodedString() }
    }
}
