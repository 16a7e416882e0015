import Foundation
import SigilCore

/// The parts of an absolute URL that SigV4 reads, as ranges of its bytes. The engine only hands it
/// URLs it built from a validated base URL.
struct SigV4URL {
    /// The URL's UTF-8.
    private let bytes: [UInt8]
    /// Before `://`; `nil` when the URL has none (then `https`).
    private let schemeRange: Range<Int>?
    /// `host[:port]` as written.
    let authorityRange: Range<Int>
    /// Empty when the URL has no path (the signer then sends and signs "/").
    private let pathRange: Range<Int>
    /// After `?`.
    private let queryRange: Range<Int>

    init(_ url: String) {
        bytes = Array(url.utf8)
        var index = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.count > colon + 2,
            bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        {
            schemeRange = 0..<colon
            index = colon + 3
        } else {
            schemeRange = nil
        }
        let authorityEnd =
            bytes[index...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.count
        authorityRange = index..<authorityEnd
        let question = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "?"))
        pathRange = authorityEnd..<(question ?? bytes.count)
        let end = bytes.count
        queryRange = question.map { ($0 + 1)..<end } ?? end..<end
    }

    /// Whether the URL had no path (the signer then sends "/").
    var pathWasEmpty: Bool { pathRange.isEmpty }

    var scheme: String { schemeRange.map { String(decoding: bytes[$0].map(ASCII.lower), as: UTF8.self) } ?? "https" }
    var authority: String { String(decoding: bytes[authorityRange], as: UTF8.self) }
    /// `/` for an empty path.
    var path: String { pathRange.isEmpty ? "/" : String(decoding: bytes[pathRange], as: UTF8.self) }
    var query: String { String(decoding: bytes[queryRange], as: UTF8.self) }

    /// The URL, with `/` for an empty path.
    var description: String { "\(scheme)://\(authority)\(path)" + (queryRange.isEmpty ? "" : "?\(query)") }

    /// Whether the scheme is `name` (lowercase), ignoring case.
    private func schemeIs(_ name: StaticString) -> Bool {
        guard let schemeRange, schemeRange.count == name.utf8CodeUnitCount else { return false }
        return zip(bytes[schemeRange], UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            .allSatisfy { ASCII.lower($0) == $1 }
    }

    /// Calls `body` with the path as written (empty when absent).
    func withPath<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[pathRange])) }
    }

    /// Calls `body` with the query as written (empty when absent).
    func withQuery<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[queryRange])) }
    }

    /// Writes the `host` header value at `output` (room for the authority's length): lowercase,
    /// without a default port (botocore's `_host_from_url`). Returns its length.
    func writeHostHeader(to output: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 0
        for byte in bytes[authorityRange] {
            output[count] = ASCII.lower(byte)
            count += 1
        }
        let host = UnsafeBufferPointer(start: output, count: count)
        let defaultPort: StaticString? =
            schemeRange == nil || schemeIs("https") ? ":443" : schemeIs("http") ? ":80" : nil
        if let defaultPort, count >= defaultPort.utf8CodeUnitCount,
            host.suffix(defaultPort.utf8CodeUnitCount).elementsEqual(
                UnsafeBufferPointer(start: defaultPort.utf8Start, count: defaultPort.utf8CodeUnitCount))
        {
            count -= defaultPort.utf8CodeUnitCount
        }
        return count
    }
}

/// Query strings the way botocore's presigner reads and writes them.
enum QueryEncoding {
    /// `parse_qs(query, keep_blank_values=True)` order-preserving: `+` is a space, escapes decoded.
    static func decodeForm(_ query: String) -> [(String, String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        String(decoding: PercentEncoding.decode(text, plusIsSpace: true), as: UTF8.self)
    }

    /// `key=value&...`, every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map {
            String(decoding: PercentEncoding.encode($0.0.utf8), as: UTF8.self) + "="
                + String(decoding: PercentEncoding.encode($0.1.utf8), as: UTF8.self)
        }
        .joined(separator: "&")
    }
}
