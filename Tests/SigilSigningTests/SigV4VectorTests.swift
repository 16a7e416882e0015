import Crypto
import Foundation
import SigilCore
import Testing

@testable import SigilSigning

@Suite("SigV4: the AWS test suite's vectors, and the signer's own rules")
struct SigV4VectorTests {
    struct Suite: Decodable {
        struct Case: Decodable, CustomTestStringConvertible {
            var name: String
            var method: String
            var path: String
            var query: String
            var headers: [[String]]
            var body: String
            var signedHeaders: String
            var signature: String
            /// The suite's `.creq` and `.sts` files: the first two stages' expected output.
            var canonicalRequest: String
            var stringToSign: String
            var testDescription: String { name }
        }

        var region: String
        var service: String
        var accessKeyId: String
        var secretAccessKey: String
        var time: String
        var cases: [Case]
    }

    static let suite: Suite = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Vectors/sigv4-test-suite.json")
        return try! JSONDecoder().decode(Suite.self, from: Data(contentsOf: url))
    }()

    static var signer: SigV4Signer {
        SigV4Signer(
            credentials: .init(
                accessKeyID: suite.accessKeyId, secretAccessKey: SecretBytes(utf8: suite.secretAccessKey)),
            region: suite.region, service: suite.service, keyCache: SigningKeyCache())
    }

    static let date = try! Date(suite.time, strategy: .iso8601)

    @Test("published signatures", arguments: suite.cases)
    func vector(_ item: Suite.Case) {
        let url = "https://example.amazonaws.com\(item.path)" + (item.query.isEmpty ? "" : "?\(item.query)")
        let payload =
            item.body.isEmpty ? SigV4Signer.emptyPayloadHash : Hex.encode(SHA256.hash(data: Array(item.body.utf8)))
        let signed = Self.signer.sign(
            .init(method: item.method, url: url, headers: item.headers.map { ($0[0], $0[1]) }, payloadHash: payload),
            at: Self.date)
        let expected =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(item.signedHeaders), Signature=\(item.signature)"
        #expect(signed.headers.first { $0.name == "Authorization" }?.value == expected)
    }

    // Each stage on its own, fed the suite's output of the stage before: a wrong stage is named by
    // the test that fails, not only by a wrong final signature.

    @Test("stage 1, the canonical request, equals the suite's .creq", arguments: suite.cases)
    func canonicalRequest(_ item: Suite.Case) {
        let url = SigV4URL("https://example.amazonaws.com\(item.path)" + (item.query.isEmpty ? "" : "?\(item.query)"))
        let payload =
            item.body.isEmpty ? SigV4Signer.emptyPayloadHash : Hex.encode(SHA256.hash(data: Array(item.body.utf8)))
        let headers = SigV4Signer.CanonicalHeaders(item.headers.map { ($0[0], $0[1]) }, url: url)
        let canonical = url.withQuery {
            Self.signer.canonicalRequest(
                method: item.method, url: url, query: $0, headers: headers, payloadHash: payload)
        }
        #expect(String(decoding: canonical, as: UTF8.self) == item.canonicalRequest)
    }

    @Test("stage 2, the string to sign of the suite's .creq, equals its .sts", arguments: suite.cases)
    func stringToSign(_ item: Suite.Case) {
        let signer = Self.signer
        let stringToSign = [UInt8](unsafeUninitializedCapacity: signer.stringToSignByteCount) { buffer, count in
            var writer = ByteWriter(buffer)
            signer.writeStringToSign(
                canonicalRequest: Array(item.canonicalRequest.utf8), time: AmzTime(Self.date), to: &writer)
            count = writer.count
        }
        #expect(String(decoding: stringToSign, as: UTF8.self) == item.stringToSign)
    }

    @Test(
        "stages 3 and 4, the signing key and the signature of the suite's .sts, equal its signature",
        arguments: suite.cases)
    func signature(_ item: Suite.Case) {
        let signature = [UInt8](unsafeUninitializedCapacity: 64) { buffer, count in
            var writer = ByteWriter(buffer)
            Array(item.stringToSign.utf8).withUnsafeBytes {
                Self.signer.writeSignature(of: $0, time: AmzTime(Self.date), to: &writer)
            }
            count = writer.count
        }
        #expect(String(decoding: signature, as: UTF8.self) == item.signature)
        // One flipped bit of the string to sign gives another signature.
        var flipped = Array(item.stringToSign.utf8)
        flipped[flipped.count - 1] ^= 0x01
        let other = [UInt8](unsafeUninitializedCapacity: 64) { buffer, count in
            var writer = ByteWriter(buffer)
            flipped.withUnsafeBytes { Self.signer.writeSignature(of: $0, time: AmzTime(Self.date), to: &writer) }
            count = writer.count
        }
        #expect(other != signature)
    }

    @Test("the derived key is cached per day, region and service, and never outlives a rotated secret")
    func keyCache() {
        let cache = SigningKeyCache()
        let first = SigV4Signer(
            credentials: .init(accessKeyID: "AKID", secretAccessKey: SecretBytes(utf8: "one")), region: "us-east-1",
            service: "s3", keyCache: cache)
        let rotated = SigV4Signer(
            credentials: .init(accessKeyID: "AKID", secretAccessKey: SecretBytes(utf8: "two")), region: "us-east-1",
            service: "s3", keyCache: cache)
        let request = SigV4Signer.Request(
            method: "GET", url: "https://b.s3.amazonaws.com/k", headers: [], payloadHash: SigV4Signer.emptyPayloadHash)
        let a = first.sign(request, at: Self.date).headers.last!.value
        #expect(first.sign(request, at: Self.date).headers.last!.value == a)
        #expect(rotated.sign(request, at: Self.date).headers.last!.value != a)
        #expect(first.sign(request, at: Self.date).headers.last!.value == a)
    }

    @Test("an empty path is sent and signed as /; a session token and a Date header are handled as botocore does")
    func details() throws {
        let signer = SigV4Signer(
            credentials: .init(accessKeyID: "AKID", secretAccessKey: SecretBytes(utf8: "s"), sessionToken: "TOKEN"),
            region: "us-east-1", service: "sts")
        let signed = signer.sign(
            .init(
                method: "GET", url: "https://sts.amazonaws.com?Action=GetCallerIdentity", headers: [("Date", "x")],
                payloadHash: SigV4Signer.emptyPayloadHash), at: Self.date)
        #expect(signed.url == "https://sts.amazonaws.com/?Action=GetCallerIdentity")
        #expect(signed.headers.map(\.name) == ["Date", "X-Amz-Security-Token", "Authorization"])
        #expect(signed.headers[0].value == "Sun, 30 Aug 2015 12:36:00 -0000")
        #expect(signed.headers[2].value.contains("SignedHeaders=date;host;x-amz-security-token"))
        let presigned = try signer.presign(
            .init(
                method: "GET", url: "https://sts.amazonaws.com/?a=1", headers: [],
                payloadHash: SigV4Signer.emptyPayloadHash), at: Self.date, expires: 60)
        #expect(
            presigned.hasPrefix(
                "https://sts.amazonaws.com/?a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=TOKEN&X-Amz-Signature="
            ))
        #expect(throws: SigilError.self) {
            try signer.presign(
                .init(method: "GET", url: "https://sts.amazonaws.com/", headers: [], payloadHash: ""), at: Self.date,
                expires: 604_801)
        }
    }
}
