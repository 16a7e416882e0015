/// Hexadecimal: lowercase for digests and MACs shown as text, capitals inside percent-escapes. One
/// implementation for every module (``ByteWriter/writeHex(_:)`` writes the same digits).
public enum Hex {
    @inlinable
    public static var lowercaseDigits: StaticString { "0123456789abcdef" }
    @inlinable
    public static var uppercaseDigits: StaticString { "0123456789ABCDEF" }

    /// `bytes` as lowercase hex.
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount * 2)
        append(bytes, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `bytes` as lowercase hex.
    @inlinable
    public static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        let digits = lowercaseDigits.utf8Start
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
    }

    /// The value of one hex digit (either case), or `nil`.
    @inlinable
    public static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes of `text` (an even number of hex digits), or `nil`.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(of: digits[index]), let low = value(of: digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
