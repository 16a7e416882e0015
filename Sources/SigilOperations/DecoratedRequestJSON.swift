import Foundation
import SigilCore
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

    /// The compact JSON the service answers with, written in one pass: members in bytewise order
    /// and `/` not escaped, as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` writes
    /// them (RFC 8259).
    public func compactJSON() -> [UInt8] {
        var bound = 64 + JSON.stringBound(method) + JSON.stringBound(url)
        bound += body_base64.map(JSON.stringBound) ?? 0
        for pair in headers { bound += 3 + pair.reduce(0) { $0 + JSON.stringBound($1) + 1 } }
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            var json = ByteWriter(buffer)
            json.write("{" as StaticString)
            if let body_base64 {
                json.write("\"body_base64\":" as StaticString)
                json.writeJSONString(body_base64)
                json.write(UInt8(ascii: ","))
            }
            json.write("\"headers\":[" as StaticString)
            for (index, pair) in headers.enumerated() {
                if index > 0 { json.write(UInt8(ascii: ",")) }
                json.write(UInt8(ascii: "["))
                for (position, text) in pair.enumerated() {
                    if position > 0 { json.write(UInt8(ascii: ",")) }
                    json.writeJSONString(text)
                }
                json.write(UInt8(ascii: "]"))
            }
            json.write("],\"method\":" as StaticString)
            json.writeJSONString(method)
            json.write(",\"url\":" as StaticString)
            json.writeJSONString(url)
            json.write(UInt8(ascii: "}"))
            count = json.count
        }
    }
}
