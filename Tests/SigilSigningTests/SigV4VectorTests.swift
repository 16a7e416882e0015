import Crypto
import Foundation
import SigilCore
@testable import SigilSigning
import Testing

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
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/sigv4-test-suite.json")
        return try! JSONDecoder().decode(Suite.self, from: Data(contentsOf: url))
    }()

    static var signer: SigV4Signer {
        SigV4Signer(credentials: .init(accessKeyID: suite.accessKeyId, secretAccessKey: SecretBytes(utf8: suite.secretAccessKey)),
                    region: suite.region, service: suite.service, keyCache: SigningKeyCache())
    }

    static let date = try! Date(suite.time, strategy: .iso8601)

    @Test("published signatures", arguments: suite.cases)
    func vector(_ item: Suite.Case) {
        let url = "https://example.amazonaws.com\(item.path)" + (item.query.isEmpty ? "" : "?\(item.query)")
        let payload = item.body.isEmpty ? SigV4Signer.emptyPayloadHash : Hex.encode(SHA256.hash(data: Array(item.body.utf8)))
        let signed = Self.signer.sign(.init(method: item.method, url: url, headers: item.headers.map { ($0[0], $0[1]) }, payloadHash: payload), at: Self.date)
        let expected = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(item.signedHeaders), Signature=\(item.signature)"
        #expect(signed.headers.first { $0.name == "Authorization" }?.value == expected)
    }

    @Test("the derived key is cached per day, region and service, and never outlives a rotated secret")
    func keyCache() {
        let cache = SigningKeyCache()
        let first = SigV4Signer(credentials: .init(accessKeyID: "AKID", secretAccessKey: SecretBytes(utf8: "one")), region: "us-east-1", service: "s3", keyCache: cache)
        let rotated = SigV4Signer(credentials: .init(accessKeyID: "AKID", secretAccessKey: SecretBytes(utf8: "two")), region: "us-east-1", service: "s3", keyCache: cache)
        let request = SigV4Signer.Request(method: "GET", url: "https://b.s3.amazonaws.com/k", headers: [], payloadHash: SigV4Signer.emptyPayloadHash)
        let a = first.sign(request, at: Self.date).headers.last!.value
        #expect(first.sign(request, at: Self.date).headers.last!.value == a)
        #expect(rotated.sign(request, at: Self.date).headers.last!.value != a)
        #expect(first.sign(request, at: Self.date).headers.last!.value == a)
    }

    @Test("an empty path is sent and signed as /; a session token and a Date header are handled as botocore does")
    func details() throws {
        let signer = SigV4Signer(credentials: .init(accessKeyID: "AKID", secretAccessKey: SecretBytes(utf8: "s"), sessionToken: "TOKEN"), region: "us-east-1", service: "sts")
        let signed = signer.sign(.init(method: "GET", url: "https://sts.amazonaws.com?Action=GetCallerIdentity", headers: [("Date", "x")], payloadHash: SigV4Signer.emptyPayloadHash), at: Self.date)
        #expect(signed.url == "https://sts.amazonaws.com/?Action=GetCallerIdentity")
        #expect(signed.headers.map(\.name) == ["Date", "X-Amz-Security-Token", "Authorization"])
        #expect(signed.headers[0].value == "Sun, 30 Aug 2015 12:36:00 -0000")
        #expect(signed.headers[2].value.contains("SignedHeaders=date;host;x-amz-security-token"))
        let presigned = try signer.presign(.init(method: "GET", url: "https://sts.amazonaws.com/?a=1", headers: [], payloadHash: SigV4Signer.emptyPayloadHash), at: Self.date, expires: 60)
        #expect(presigned.hasPrefix("https://sts.amazonaws.com/?a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=TOKEN&X-Amz-Signature="))
        #expect(throws: SigilError.self) { try signer.presign(.init(method: "GET", url: "https://sts.amazonaws.com/", headers: [], payloadHash: ""), at: Self.date, expires: 604_801) }
    }
}
