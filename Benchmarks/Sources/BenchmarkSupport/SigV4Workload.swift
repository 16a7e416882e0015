import Crypto
import Foundation
import SigilCore
import SigilSigning

/// The five requests of the SigV4 comparison (the same in comparison/botocore_workload.py and
/// comparison/go/main.go): an S3 GET with Range, an STS form POST with a session token, an S3 PUT
/// of 1 KiB, a GET with 10 query parameters needing encoding, and a JSON POST with 20 headers.
public enum SigV4Workload {
    public struct Item: Sendable {
        public var signer: SigV4Signer
        public var method: String
        public var url: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
    }

    public static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let accessKey = "AKIDEXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token =
        "FQoGZXIvYXdzEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI"

    public static func items() -> [Item] {
        func signer(_ service: String, token: String? = nil) -> SigV4Signer {
            SigV4Signer(
                credentials: .init(
                    accessKeyID: accessKey, secretAccessKey: SecretBytes(utf8: secretKey), sessionToken: token),
                region: "us-east-1", service: service)
        }
        let json = Array(#"{"TableName":"Sigil","Item":{"id":{"S":"42"},"name":{"S":"benchmark"}}}"#.utf8)
        return [
            Item(
                signer: signer("s3"), method: "GET", url: "https://examplebucket.s3.amazonaws.com/photos/2015/test.jpg",
                headers: [("Range", "bytes=0-1023")], body: []),
            Item(
                signer: signer("sts", token: token), method: "POST", url: "https://sts.amazonaws.com/",
                headers: [
                    ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Content-Length", "118"),
                ],
                body: Array(
                    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer&RoleSessionName=bench"
                        .utf8)),
            Item(
                signer: signer("s3"), method: "PUT", url: "https://examplebucket.s3.amazonaws.com/uploads/object.bin",
                headers: [("Content-Type", "application/octet-stream"), ("Content-Length", "1024")],
                body: (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
            Item(
                signer: signer("execute-api"), method: "GET",
                url: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/items?"
                    + (0..<10).map { "filter%5B\($0)%5D=caf%C3%A9%20\($0)%2Bx" }.joined(separator: "&"),
                headers: [], body: []),
            Item(
                signer: signer("dynamodb"), method: "POST", url: "https://dynamodb.us-east-1.amazonaws.com/",
                headers: [
                    ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
                    ("Content-Length", "\(json.count)"),
                ]
                    + (0..<18).map { ("X-Custom-Header-\($0)", "value   \($0) with  spaces") },
                body: json),
        ]
    }

    /// Hashes the body and signs it, as each of the three signers in the comparison does.
    @inline(__always)
    public static func sign(_ item: Item) -> SigV4Signer.Request {
        let payloadHash = item.body.isEmpty ? SigV4Signer.emptyPayloadHash : hex(SHA256.hash(data: item.body))
        return item.signer.sign(
            .init(method: item.method, url: item.url, headers: item.headers, payloadHash: payloadHash), at: date)
    }

    /// Lowercase hex of the payload's digest, written straight into the string (what Go's
    /// `hex.EncodeToString` and botocore's `hexdigest` do).
    static func hex(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { output in
                let digits: StaticString = "0123456789abcdef"
                for (index, byte) in bytes.enumerated() {
                    output[2 * index] = digits.utf8Start[Int(byte >> 4)]
                    output[2 * index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                }
                return bytes.count * 2
            }
        }
    }
}

extension SigV4Workload {
    /// The length of the canonical request Sigil builds for `item`, read from a trace.
    public static func canonicalRequestLength(_ item: Item) -> Int {
        let trace = SigningTrace()
        let payloadHash = item.body.isEmpty ? SigV4Signer.emptyPayloadHash : hex(SHA256.hash(data: item.body))
        _ = item.signer.sign(
            .init(method: item.method, url: item.url, headers: item.headers, payloadHash: payloadHash), at: date,
            trace: trace)
        let text = trace.render { _ in "" }
        guard let start = text.range(of: "SigV4 canonical request: \n"),
            let end = text.range(of: "\nSigV4 string to sign")
        else { return 0 }
        return text.utf8.distance(
            from: start.upperBound.samePosition(in: text.utf8)!, to: end.lowerBound.samePosition(in: text.utf8)!)
    }
}
