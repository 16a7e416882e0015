/// Percent-encoding (RFC 3986 section 2.1): every byte but the unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`, section 2.3) as `%XX` in capitals. SigV4's canonical URI and query,
/// token endpoint forms, merge fields' `URLENCODE` and OAuth 2.0 URLs all use this one encoder.
public enum PercentEncoding {
    @inlinable
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// `bytes` encoded; with `keepingSlash`, `/` is left as it is (paths).
    public static func encode(_ bytes: some Sequence<UInt8>, keepingSlash: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount)
        append(bytes, to: &output, keepingSlash: keepingSlash)
        return output
    }

    /// `text` encoded, as a string.
    public static func encode(_ text: String) -> String {
        String(decoding: encode(text.utf8), as: UTF8.self)
    }

    public static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8], keepingSlash: Bool = false) {
        let digits = Hex.uppercaseDigits.utf8Start
        for byte in bytes {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0F)])
            }
        }
    }

    /// `name=value&...` with every name and value encoded: an
    /// `application/x-www-form-urlencoded` body or a query (RFC 6749 appendix B).
    public static func form(_ fields: [(name: String, value: String)]) -> [UInt8] {
        var output: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { output.append(UInt8(ascii: "&")) }
            append(field.name.utf8, to: &output)
            output.append(UInt8(ascii: "="))
            append(field.value.utf8, to: &output)
        }
        return output
    }

    /// `text` with its escapes decoded (and with `plusIsSpace`, `+` as a space, as forms write it).
    /// A `%` not followed by two hex digits is kept as it is.
    public static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> [UInt8] {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
                let high = Hex.value(of: input[index + 1]), let low = Hex.value(of: input[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
                continue
            }
            output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return output
    }
}
