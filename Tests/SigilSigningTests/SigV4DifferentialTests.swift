import Crypto
import Foundation
import SigilCore
import Testing

@testable import SigilSigning

/// A small, fast, seeded generator so every run signs the same requests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("SigV4: differential test against botocore")
struct SigV4DifferentialTests {
    struct Case: Codable {
        var id: Int
        var method: String
        var url: String
        var headers: [[String]]
        var body_hex: String
        var service: String
        var region: String
        var access_key: String
        var secret_key: String
        var token: String?
        var time: String
        var unsigned: Bool
        var presign_expires: Int?
    }

    struct Result: Codable {
        var id: Int
        var authorization: String?
        var url: String?
        var headers: [[String]]
        var canonical_request: String
    }

    static func generate(count: Int) -> [Case] {
        var random = SplitMix64(state: 20_150_830)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        let segments = [
            "photos", "a-b_c.d~e", "caf%C3%A9", "%E6%97%A5%E6%9C%AC", "with%20space", "plus+sign", "eq%3Dsign",
            "amp%26", "colon:at@",
            "semi;comma,", "paren()", "star*", "bang!$", "quote'", "%2525", "UPPER", "x", "0", "a%2Fb",
        ]
        let queryKeys = [
            "list-type", "prefix", "max-keys", "Action", "Version", "a", "b", "A", "z", "key%20space", "%C3%BCber",
            "uploads", "versionId", "x-id",
        ]
        let queryValues = [
            "", "1", "2", "abc", "a%20b", "a+b", "%2F", "~tilde", "caf%C3%A9", "UPPER", "x%3Dy", "2015-08-30",
            "GetCallerIdentity",
        ]
        let headerNames = [
            "X-Amz-Meta-Name", "x-amz-meta-name", "Content-Type", "Accept", "X-Custom", "x-custom", "Range",
            "Content-MD5",
            "User-Agent", "X-Amzn-Trace-Id", "Cache-Control", "x-amz-acl", "If-None-Match", "Expect",
        ]
        let headerValues = [
            "plain", "  leading and trailing  ", "runs   of    spaces", "tab\tseparated\t\tvalues", "a,b,c",
            "bytes=0-1023",
            "application/json; charset=utf-8", "\"etag\"", "", "UPPER lower", "x y  z",
            "application/x-www-form-urlencoded; charset=utf-8",
        ]
        let hosts = [
            "examplebucket.s3.amazonaws.com", "s3.us-east-1.amazonaws.com", "sts.amazonaws.com",
            "dynamodb.eu-west-1.amazonaws.com",
            "abc123.execute-api.us-west-2.amazonaws.com", "api.example.com:8443", "127.0.0.1:5000",
            "Mixed.Case.Example.com",
        ]
        var cases: [Case] = []
        for id in 0..<count {
            let service = pick(["s3", "s3", "sts", "execute-api", "dynamodb", "iam", "s3-object-lambda"])
            let presign = chance(20)
            let host = pick(hosts)
            let scheme = host.hasPrefix("127.") ? "http" : pick(["https", "https", "https", "http"])
            var path = ""
            for _ in 0..<Int(random.next() % 5) { path += "/" + pick(segments) }
            if service.hasPrefix("s3") == false && chance(15) { path += pick(["/./x", "/../y", "//z", "/a/"]) }
            if chance(20) { path += "/" }
            if path.isEmpty { path = "/" }  // the signer sends "/" for an empty path (tested on its own)
            var pairs: [String] = []
            var usedKeys: Set<String> = []
            for _ in 0..<Int(random.next() % 6) {
                let key = pick(queryKeys)
                // botocore keeps one value per key when presigning.
                if presign && !usedKeys.insert(key).inserted { continue }
                pairs.append(chance(10) ? key : "\(key)=\(pick(queryValues))")
            }
            if chance(5) && !presign { pairs.append(pairs.first ?? "a=1") }
            let query = pairs.isEmpty ? (chance(5) ? "?" : "") : "?" + pairs.joined(separator: "&")
            var headers: [[String]] = []
            for _ in 0..<Int(random.next() % 5) { headers.append([pick(headerNames), pick(headerValues)]) }
            if chance(10) { headers.append(["Host", host.lowercased()]) }
            if chance(3) && !presign { headers.append(["Date", "Mon, 01 Jan 2001 00:00:00 GMT"]) }
            let method =
                presign ? pick(["GET", "PUT", "HEAD"]) : pick(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"])
            var body: [UInt8] = []
            if !presign && ["PUT", "POST", "PATCH"].contains(method) && chance(70) {
                body = (0..<Int(random.next() % 2048)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            cases.append(
                Case(
                    id: id, method: method, url: "\(scheme)://\(host)\(path)\(query)", headers: headers,
                    body_hex: body.map { String(format: "%02x", $0) }.joined(), service: service,
                    region: pick(["us-east-1", "eu-west-1", "ap-southeast-2"]),
                    access_key: pick(["AKIDEXAMPLE", "ASIAEXAMPLE123"]),
                    secret_key: pick(["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "another/secret+with=symbols"]),
                    token: chance(30) ? "FQoGZXIvYXdzE" + pick(["abc/def+ghi==", "token"]) : nil,
                    time: pick(["20150830T123600Z", "20240229T235959Z", "20261123T000000Z"]),
                    unsigned: !presign && chance(20), presign_expires: presign ? pick([1, 60, 3600, 604_800]) : nil
                ))
        }
        return cases
    }

    static func sigil(_ item: Case) throws -> (authorization: String?, url: String?, headers: [[String]]) {
        let signer = SigV4Signer(
            credentials: .init(
                accessKeyID: item.access_key, secretAccessKey: SecretBytes(utf8: item.secret_key),
                sessionToken: item.token),
            region: item.region, service: item.service
        )
        var formatter = Date.ISO8601FormatStyle()
        formatter = formatter.year().month().day().time(includingFractionalSeconds: false).dateSeparator(.omitted)
            .timeSeparator(.omitted)
        let date = try Date(item.time, strategy: formatter)
        let body = stride(from: 0, to: item.body_hex.count, by: 2).map { index in
            UInt8(item.body_hex.dropFirst(index).prefix(2), radix: 16)!
        }
        let payloadHash =
            item.unsigned
            ? SigV4Signer.unsignedPayload
            : body.isEmpty ? SigV4Signer.emptyPayloadHash : Hex.encode(Crypto.SHA256.hash(data: body))
        let request = SigV4Signer.Request(
            method: item.method, url: item.url, headers: item.headers.map { ($0[0], $0[1]) }, payloadHash: payloadHash)
        if let expires = item.presign_expires {
            return (nil, try signer.presign(request, at: date, expires: expires), [])
        }
        let signed = signer.sign(request, at: date)
        return (
            signed.headers.first { $0.name == "Authorization" }?.value, nil, signed.headers.map { [$0.name, $0.value] }
        )
    }

    @Test("3000 generated requests: Sigil's signature equals botocore's for every one")
    func differential() throws {
        let cases = Self.generate(count: 3000)
        let directory = NSTemporaryDirectory() + "sigil-sigv4-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let input = directory + "/cases.json"
        try JSONEncoder().encode(cases).write(to: URL(fileURLWithPath: input))
        let output = try shell(["python3", interopDirectory + "/sigv4_botocore.py", input], in: directory)
        let results = try JSONDecoder().decode([Result].self, from: Data(output.utf8))
        #expect(results.count == cases.count)
        var mismatches = 0
        for (item, reference) in zip(cases, results) {
            let ours = try Self.sigil(item)
            let same =
                item.presign_expires == nil ? ours.authorization == reference.authorization : ours.url == reference.url
            if !same {
                mismatches += 1
                if mismatches <= 6 {
                    Issue.record(
                        "case \(item.id) \(item.method) \(item.url) service \(item.service): botocore \(reference.authorization ?? reference.url ?? "")\n ours \(ours.authorization ?? ours.url ?? "")\n botocore's canonical request:\n\(reference.canonical_request)"
                    )
                }
            } else if item.presign_expires == nil {
                // The headers botocore added are the ones Sigil added, with the same values.
                let added = { (headers: [[String]]) in
                    Set(
                        headers.filter { $0[0].lowercased().hasPrefix("x-amz-") || $0[0] == "Date" }.map {
                            "\($0[0].lowercased()): \($0[1])"
                        })
                }
                #expect(added(ours.headers) == added(reference.headers), "case \(item.id)")
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(cases.count) signatures differ from botocore's")
    }
}
