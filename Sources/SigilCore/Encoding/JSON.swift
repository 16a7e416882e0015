/// Sizes and order for the JSON that ``ByteWriter/writeJSONString(_:)`` writes (RFC 8259): upper
/// bounds, so a buffer of that size always suffices.
public enum JSON {
    @inlinable
    public static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Quotes, and each byte escaped at most as `\u00XX`.
    @inlinable
    public static func stringBound(_ value: String) -> Int { 2 + 6 * value.utf8.count }

    /// Bytewise (UTF-8) order, as JWT members are written.
    @inlinable
    public static func precedes(_ left: String, _ right: String) -> Bool {
        let fast = left.utf8.withContiguousStorageIfAvailable { left in
            right.utf8.withContiguousStorageIfAvailable { right in left.lexicographicallyPrecedes(right) }
        }
        return (fast ?? nil) ?? left.utf8.lexicographicallyPrecedes(right.utf8)
    }
}
