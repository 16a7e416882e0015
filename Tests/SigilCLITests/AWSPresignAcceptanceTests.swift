import Foundation
import Testing

/// `Tests/Interop/presign_verifier.py`: a loopback server that verifies SigV4 presigned URLs with
/// botocore's own signer, started for one test and stopped after it.
///
/// Why not moto, which checks the header-signed requests in AWSAcceptanceTests: moto 5.2.1 with
/// authentication on answers every query-signed request with HTTP 500, valid or not, botocore's own
/// presigned URLs included, because `IAMRequestBase.__init__` (moto/iam/access_control.py) reads
/// the Authorization header unconditionally; with authentication off it serves presigned URLs
/// without checking them. No moto setting changes either. The verifier's docstring has the details.
final class PresignVerifier {
    struct Info: Decodable {
        var endpoint: String
        var region: String
        var access_key: String
        var secret_key: String
        var temporary_access_key: String
        var temporary_secret_key: String
        var session_token: String
    }

    let peer: InteropPeer<Info>
    var info: Info { peer.info }

    init(directory: String) throws {
        peer = try InteropPeer(
            "presign_verifier.py", [directory + "/verifier.json"], infoPath: directory + "/verifier.json")
    }

    func stop() { peer.stop() }
}

@Suite(
    "AWS SigV4 presigned URLs accepted by a server that verifies them (botocore's signer); tampered, wrong-key and expired ones refused",
    .serialized)
struct AWSPresignAcceptanceTests {
    /// Sends `method url` (with `body`) with a plain HTTP client, adding only Host and Content-Length.
    func fetch(_ url: String, method: String = "GET", headers: [[String]] = [], body: String = "") throws -> (
        status: Int, body: String
    ) {
        let request: [String: Any] = [
            "method": method, "url": url, "headers": headers, "body_base64": Data(body.utf8).base64EncodedString(),
        ]
        let data = try runInterop("send_request.py", input: try JSONSerialization.data(withJSONObject: request))
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (try #require(result["status"] as? Int), try #require(result["body"] as? String))
    }

    /// The verifier's description of an accepted request.
    func verified(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    /// `sigil presign arguments...`: the URL it printed.
    func presign(_ cli: CLI, _ arguments: [String]) throws -> String {
        try cli.ok(["presign"] + arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `url` with query parameter `name` set to `value` (raw, already encoded), or removed if nil.
    func replacing(_ name: String, with value: String?, in url: String) -> String {
        guard let mark = url.firstIndex(of: "?") else { return url }
        let items = url[url.index(after: mark)...].split(separator: "&").compactMap { item -> String? in
            item.hasPrefix(name + "=") ? value.map { name + "=" + $0 } : String(item)
        }
        return String(url[...mark]) + items.joined(separator: "&")
    }

    func parameter(_ name: String, in url: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value
    }

    func iso8601(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// A vault with S3 and STS credentials for the verifier's keys: right, wrong secret, temporary.
    func setUp(_ cli: CLI, _ verifier: PresignVerifier) throws {
        try cli.ok(["init"])
        let config = cli.home + "/aws.yaml"
        let endpoint = verifier.info.endpoint
        try """
        externalCredentials:
          - name: S3
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: s3 }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }
          - name: S3Wrong
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: s3 }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:WRONG } }
          - name: S3Temporary
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: s3 }
            principals:
              - { name: session, secrets: { accessKeyId: env:TAK, secretAccessKey: env:TSK, sessionToken: env:TOKEN } }
          - name: Sts
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }
        namedCredentials:
          - { name: Bucket, url: "\(endpoint)/sigil-bucket", externalCredential: S3 }
          - { name: BucketWrong, url: "\(endpoint)/sigil-bucket", externalCredential: S3Wrong }
          - { name: BucketTemporary, url: "\(endpoint)/sigil-bucket", externalCredential: S3Temporary }
          - { name: Sts, url: "\(endpoint)", externalCredential: Sts }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(
            ["apply", "-f", config],
            environment: [
                "AK": verifier.info.access_key, "SK": verifier.info.secret_key, "WRONG": "not-the-secret-key-at-all",
                "TAK": verifier.info.temporary_access_key, "TSK": verifier.info.temporary_secret_key,
                "TOKEN": verifier.info.session_token,
            ])
    }

    @Test(
        "S3: a Sigil presigned GET and PUT are accepted; a changed signature, path, method or expiry, a wrong secret and an expired URL are refused"
    )
    func s3() throws {
        let cli = CLI()
        let verifier = try PresignVerifier(directory: cli.home)
        defer { verifier.stop() }
        try setUp(cli, verifier)

        let url = try presign(
            cli,
            [
                "--expires", "300",
                "callout:Bucket/reports/2026%20Q3%2Bfinal~.csv?response-content-type=text%2Fcsv%3B%20charset%3Dutf-8",
            ])
        #expect(url.hasPrefix(verifier.info.endpoint + "/sigil-bucket/reports/"))
        #expect(parameter("X-Amz-Expires", in: url) == "300")
        #expect(parameter("X-Amz-Credential", in: url)?.hasSuffix("/us-east-1/s3/aws4_request") == true)
        let accepted = try fetch(url)
        #expect(accepted.status == 200, "\(accepted.body)")
        let description = verified(accepted.body)
        #expect(description["verified"] as? Bool == true)
        #expect(description["path"] as? String == "/sigil-bucket/reports/2026%20Q3%2Bfinal~.csv")
        #expect(description["access_key"] as? String == verifier.info.access_key)
        #expect((description["query"] as? [[String]])?.first == ["response-content-type", "text/csv; charset=utf-8"])

        // Every signed part counts: the signature itself, the path, the method, the expiry.
        let signature = try #require(parameter("X-Amz-Signature", in: url))
        let flipped = String(signature.dropLast()) + (signature.hasSuffix("0") ? "1" : "0")
        let refusals = [
            ("signature", try fetch(replacing("X-Amz-Signature", with: flipped, in: url))),
            ("path", try fetch(url.replacingOccurrences(of: "/reports/", with: "/private/"))),
            ("method", try fetch(url, method: "DELETE")),
            ("expiry", try fetch(replacing("X-Amz-Expires", with: "604800", in: url))),
            ("query", try fetch(url.replacingOccurrences(of: "text%2Fcsv", with: "text%2Fhtml"))),
            ("wrong secret", try fetch(try presign(cli, ["--expires", "300", "callout:BucketWrong/reports/a.csv"]))),
        ]
        for (change, response) in refusals {
            #expect(response.status == 403, "\(change): \(response.body)")
            #expect(response.body.contains("<Code>SignatureDoesNotMatch</Code>"), "\(change): \(response.body)")
        }

        // Expiry counts from the URL's X-Amz-Date: signed two hours ago, valid for a minute, refused
        // (the signature is right: the verifier checks it first); valid for three hours, accepted.
        let twoHoursAgo = iso8601(Date().addingTimeInterval(-7200))
        let expired = try fetch(
            try presign(cli, ["--at", twoHoursAgo, "--expires", "60", "callout:Bucket/reports/a.csv"]))
        #expect(expired.status == 403, "\(expired.body)")
        #expect(expired.body.contains("Request has expired"), "\(expired.body)")
        let stillValid = try fetch(
            try presign(cli, ["--at", twoHoursAgo, "--expires", "10800", "callout:Bucket/reports/a.csv"]))
        #expect(stillValid.status == 200, "\(stillValid.body)")

        // A presigned PUT (UNSIGNED-PAYLOAD) takes any body, but only as a PUT.
        let put = try presign(cli, ["-X", "PUT", "--expires", "300", "callout:Bucket/uploads/b.txt"])
        let uploaded = try fetch(put, method: "PUT", body: "hello from a presigned URL")
        #expect(uploaded.status == 200, "\(uploaded.body)")
        #expect(verified(uploaded.body)["body_length"] as? Int == 26)
        #expect(try fetch(put).status == 403)
    }

    @Test("S3: headers given with -H are signed into the URL; the upload must send them with the same values")
    func signedHeaders() throws {
        let cli = CLI()
        let verifier = try PresignVerifier(directory: cli.home)
        defer { verifier.stop() }
        try setUp(cli, verifier)

        let url = try presign(
            cli,
            [
                "-X", "PUT", "-H", "Content-Type: text/csv", "-H", "x-amz-acl: bucket-owner-full-control", "--expires",
                "300", "callout:Bucket/uploads/c.csv",
            ])
        #expect(parameter("X-Amz-SignedHeaders", in: url) == "content-type;host;x-amz-acl")
        let headers = [["Content-Type", "text/csv"], ["x-amz-acl", "bucket-owner-full-control"]]
        let uploaded = try fetch(url, method: "PUT", headers: headers, body: "a,b\n1,2\n")
        #expect(uploaded.status == 200, "\(uploaded.body)")
        #expect(verified(uploaded.body)["body_length"] as? Int == 8)

        let withoutACL = try fetch(url, method: "PUT", headers: [headers[0]], body: "a,b\n")
        #expect(
            withoutACL.status == 403 && withoutACL.body.contains("signed header x-amz-acl is missing"),
            "\(withoutACL.body)")
        let otherType = try fetch(
            url, method: "PUT", headers: [["Content-Type", "text/html"], headers[1]], body: "<p>")
        #expect(
            otherType.status == 403 && otherType.body.contains("<Code>SignatureDoesNotMatch</Code>"),
            "\(otherType.body)")

        // The caller's headers follow the same rules as for sign: no Host, no control characters.
        #expect(try cli.run(["presign", "-H", "Host: elsewhere.example", "callout:Bucket/a"]).status != 0)
        #expect(try cli.run(["presign", "-H", "x-amz-meta-a: b\u{7}c", "callout:Bucket/a"]).status != 0)
    }

    @Test("S3 with temporary credentials: the signed session token is required")
    func temporary() throws {
        let cli = CLI()
        let verifier = try PresignVerifier(directory: cli.home)
        defer { verifier.stop() }
        try setUp(cli, verifier)

        let url = try presign(cli, ["--expires", "300", "callout:BucketTemporary/reports/a.csv"])
        #expect(parameter("X-Amz-Security-Token", in: url) == verifier.info.session_token)
        let accepted = try fetch(url)
        #expect(accepted.status == 200, "\(accepted.body)")
        #expect(verified(accepted.body)["access_key"] as? String == verifier.info.temporary_access_key)

        let withoutToken = try fetch(replacing("X-Amz-Security-Token", with: nil, in: url))
        #expect(withoutToken.status == 403)
        #expect(withoutToken.body.contains("<Code>InvalidToken</Code>"), "\(withoutToken.body)")
    }

    @Test(
        "STS: a presigned GetCallerIdentity (non-S3 canonical path and payload hash) is accepted; a changed action is refused"
    )
    func sts() throws {
        let cli = CLI()
        let verifier = try PresignVerifier(directory: cli.home)
        defer { verifier.stop() }
        try setUp(cli, verifier)

        let url = try presign(cli, ["--expires", "900", "callout:Sts/?Action=GetCallerIdentity&Version=2011-06-15"])
        let accepted = try fetch(url)
        #expect(accepted.status == 200, "\(accepted.body)")
        let description = verified(accepted.body)
        #expect(description["service"] as? String == "sts")
        #expect(
            (description["query"] as? [[String]]) == [["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]])

        let changed = try fetch(
            url.replacingOccurrences(of: "Action=GetCallerIdentity", with: "Action=GetSessionToken"))
        #expect(changed.status == 403)
        #expect(changed.body.contains("<Code>SignatureDoesNotMatch</Code>"), "\(changed.body)")
    }
}
