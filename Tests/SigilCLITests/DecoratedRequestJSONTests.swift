import Foundation
import SigilOperations
import Testing

@Suite("DecoratedRequestJSON: the service's compact answer")
struct DecoratedRequestJSONTests {
    static let texts = [
        "plain", "https://api.example/v1/a?b=c&d=%2F", "a \"quoted\" value", "back\\slash", "caf\u{E9} \u{1F510}",
        "tab\tnew\nline\rcarriage", "control \u{1}\u{8}\u{C}\u{1F} bytes", "",
    ]

    static func decoded(_ headers: [[String]], body: String?, url: String) throws -> DecoratedRequestJSON {
        var object: [String: Any] = ["method": "POST", "url": url, "headers": headers]
        object["body_base64"] = body
        return try JSONDecoder().decode(
            DecoratedRequestJSON.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test("reads back as the same value, whatever the strings hold", arguments: texts)
    func roundTrip(text: String) throws {
        for body in [nil, "eyJhIjoxfQ=="] {
            let value = try Self.decoded(
                [["X-Note", text], [text, "v"]], body: body, url: "https://h.example/" + text)
            let back = try JSONDecoder().decode(DecoratedRequestJSON.self, from: Data(value.compactJSON()))
            #expect(back.headers == value.headers)
            #expect(back.url == value.url)
            #expect(back.method == value.method)
            #expect(back.body_base64 == value.body_base64)
        }
    }

    @Test("is byte for byte what JSONEncoder writes with sorted keys and unescaped slashes")
    func sameBytesAsJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for body in [nil, "eyJhIjoxfQ=="] {
            let value = try Self.decoded(
                [["Authorization", "Bearer a/b+c=="], ["X-Quote", "say \"hi\" \\ caf\u{E9}"]], body: body,
                url: "https://api.example/v1/invoices?month=11")
            #expect(
                String(decoding: value.compactJSON(), as: UTF8.self)
                    == String(decoding: try encoder.encode(value), as: UTF8.self))
        }
    }
}
