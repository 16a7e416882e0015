/// What a header may be, in one place: custom headers are checked against it at `apply`, and
/// every caller's request (CLI, library, service) in the engine.
public enum HTTPFieldRules {
    /// Headers only the HTTP client sets: they route the message (`Host`) or frame it
    /// (`Content-Length`, `Transfer-Encoding`, `Connection`...). A caller or a credential that sets
    /// one could send the credential to another virtual host on a shared front end (domain
    /// fronting) or split the message (request smuggling).
    public static let reserved: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "proxy-authorization", "proxy-connection",
    ]

    /// RFC 9110 section 5.6.2's `tchar`.
    @inlinable
    public static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"),
            UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Whether `name` is a field name (RFC 9110 section 5.1: a token).
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        if let valid = name.utf8.withContiguousStorageIfAvailable({ $0.allSatisfy(isTokenCharacter) }) { return valid }
        return name.utf8.allSatisfy(isTokenCharacter)
    }

    /// ``reserved`` by length, as UTF-8 (a request's names are compared without allocating).
    private static let reservedByLength: [Int: [[UInt8]]] = Dictionary(
        grouping: reserved.map { Array($0.utf8) }, by: \.count)

    /// Whether `name` (any case) is one of ``reserved``.
    public static func isReserved(_ name: String) -> Bool {
        guard let candidates = reservedByLength[name.utf8.count] else { return false }
        return candidates.contains { candidate in
            zip(candidate, name.utf8).allSatisfy { expected, byte in
                (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == expected
            }
        }
    }

    /// Whether `value` holds a control character (RFC 9110 section 5.5 allows visible characters,
    /// spaces, tabs and bytes from 0x80): CR, LF and NUL would split the message, the others (BEL,
    /// ESC...) are refused by careful servers and corrupt terminals and logs.
    @inlinable
    public static func hasControlCharacter(_ value: String) -> Bool {
        let check = { (bytes: UnsafeBufferPointer<UInt8>) in bytes.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
        }
        if let found = value.utf8.withContiguousStorageIfAvailable(check) { return found }
        var value = value
        return value.withUTF8(check)
    }
}
