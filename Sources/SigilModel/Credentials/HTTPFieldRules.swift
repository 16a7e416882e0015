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

    /// RFC 9110 section 5.6.2's `tchar`, by byte.
    private static let tokenCharacters: [Bool] = (0..<256).map { byte in
        "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8.contains(UInt8(byte))
    }

    /// Whether `name` is a field name (RFC 9110 section 5.1: a token).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { tokenCharacters[Int($0)] }
    }

    private static let longestReserved = reserved.map(\.utf8.count).max() ?? 0

    /// Whether `name` (any case) is one of ``reserved``.
    public static func isReserved(_ name: String) -> Bool {
        name.utf8.count <= longestReserved && reserved.contains(name.lowercased())
    }

    /// Whether `value` holds a control character (RFC 9110 section 5.5 allows visible characters,
    /// spaces, tabs and bytes from 0x80): CR, LF and NUL would split the message, the others (BEL,
    /// ESC...) are refused by careful servers and corrupt terminals and logs.
    public static func hasControlCharacter(_ value: String) -> Bool {
        let check = { (bytes: UnsafeBufferPointer<UInt8>) in bytes.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F } }
        if let found = value.utf8.withContiguousStorageIfAvailable(check) { return found }
        var value = value
        return value.withUTF8(check)
    }
}
