public import SigilCore

/// The rules a URL's path must meet before a credential is sent with it, shared by base URLs
/// (``EndpointURL``) and request paths (callouts), so that every server, proxy and HTTP library
/// reads the path as Sigil checked it (RFC 3986 sections 2.1, 3.3 and 5.2.4).
///
/// - No `.` or `..` segment, written plainly, percent-encoded (`%2e`) or followed by path
///   parameters (`..;x`, which servlet containers resolve as `..`).
/// - No encoded slash or backslash (`%2f`, `%5c`), which some servers decode into a separator.
/// - Percent-escapes that decode to UTF-8: Foundation's URL (under async-http-client) drops a
///   path whose escapes do not (`/v1/%ff` would be sent as `/`).
public enum URLPathRules {
    /// Why `segment` (the bytes between two `/`, still percent-encoded) is refused ("an encoded
    /// slash"), or `nil`.
    @inlinable
    public static func segmentProblem<Segment: Collection<UInt8>>(_ segment: Segment) -> String? {
        // The segment's name: what precedes its first ';' (plain or %3b), decoded.
        var dots = 0
        var other = false
        var inName = true
        var index = segment.startIndex
        while index != segment.endIndex {
            var byte = segment[index]
            var escaped = false
            if byte == UInt8(ascii: "%"), let decoded = decodedEscape(segment, at: index) {
                byte = decoded
                escaped = true
                index = segment.index(index, offsetBy: 3)
            } else {
                index = segment.index(after: index)
            }
            if escaped && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\")) { return "an encoded slash" }
            guard inName else { continue }
            if byte == UInt8(ascii: ";") {
                inName = false
            } else if byte == UInt8(ascii: ".") {
                dots += 1
            } else {
                other = true
            }
        }
        if !other && (dots == 1 || dots == 2) {
            return "a '.' or '..' segment (also as %2e, or followed by ';') that would leave the base path"
        }
        return nil
    }

    /// Whether every percent-escape in `bytes` decodes, with the bytes around it, to UTF-8. Only
    /// escapes of bytes from 0x80 up can break it, so ASCII-only paths are not decoded at all.
    @inlinable
    public static func escapesDecodeToUTF8<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var highEscape = false
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "%"), let decoded = decodedEscape(bytes, at: index), decoded >= 0x80 {
                highEscape = true
                break
            }
            index = bytes.index(after: index)
        }
        guard highEscape else { return true }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "%"), let byte = decodedEscape(bytes, at: index) {
                decoded.append(byte)
                index = bytes.index(index, offsetBy: 3)
            } else {
                decoded.append(bytes[index])
                index = bytes.index(after: index)
            }
        }
        return String(validating: decoded, as: UTF8.self) != nil
    }

    /// Characters RFC 3986 does not allow in a path or query that Foundation's URL percent-encodes
    /// when it parses one (`[` becomes `%5B`): a callout encodes them itself, so the URL it checks
    /// and signs is the URL sent.
    @inlinable
    public static func mustBeEncoded(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
            true
        default:
            false
        }
    }

    /// The byte `%XY` at `index` stands for, when it is one.
    @inlinable
    static func decodedEscape<Bytes: Collection<UInt8>>(_ bytes: Bytes, at index: Bytes.Index) -> UInt8? {
        guard bytes.distance(from: index, to: bytes.endIndex) >= 3 else { return nil }
        let first = bytes.index(after: index)
        guard let high = Hex.value(of: bytes[first]), let low = Hex.value(of: bytes[bytes.index(after: first)]) else {
            return nil
        }
        return high << 4 | low
    }
}
