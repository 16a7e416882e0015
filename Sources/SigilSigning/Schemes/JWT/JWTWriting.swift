import Foundation

/// JWT writing on ``ByteWriter`` (bounds-checked writes into a buffer sized by the caller from
/// an upper bound): the claims' JSON goes to a stack buffer, the token into a `String`'s storage.
extension ByteWriter {
    /// Decimal digits, without going through `String`.
    mutating func writeInteger(_ value: Int) {
        if value < 0 { write(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Least significant digit first, from the end of a 20-byte stack buffer (UInt64.max has 20
        // digits, so `start` stays in 0..<20).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            write(UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Base64url without padding (RFC 7515 section 2), encoded 48 bytes at a time into a 64-byte
    /// stack block that is then written whole (one bounds check per block, not per character).
    mutating func writeBase64URL(_ bytes: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { block in
            var start = 0
            while start < bytes.count {
                let end = min(start + 48, bytes.count)
                let count = Base64URL.encode(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), into: block)
                write(UnsafeBufferPointer(rebasing: block[..<count]))
                start = end
            }
        }
    }

    /// A JSON string (RFC 8259 section 7): quote, backslash and control characters escaped, `/`
    /// not. At most `JSON.stringBound(value)` bytes.
    mutating func writeJSONString(_ value: String) {
        write(UInt8(ascii: "\""))
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            // Runs of bytes that need no escape are copied whole.
            var start = 0
            for index in utf8.indices where JSON.needsEscape(utf8[index]) {
                write(UnsafeBufferPointer(rebasing: utf8[start..<index]))
                writeEscaped(utf8[index])
                start = index + 1
            }
            write(UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        if done == nil {
            for byte in value.utf8 {
                if JSON.needsEscape(byte) { writeEscaped(byte) } else { write(byte) }
            }
        }
        write(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ byte: UInt8) {
        write(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): write(byte)
        case 0x0A: write(UInt8(ascii: "n"))
        case 0x0D: write(UInt8(ascii: "r"))
        case 0x09: write(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef", prefix: StaticString = "u00"
            write(prefix)
            write(hex.utf8Start[Int(byte >> 4)])
            write(hex.utf8Start[Int(byte & 0x0F)])
        }
    }
}

/// Sizes for ``ByteWriter``'s JSON: upper bounds, so a buffer of that size always suffices.
enum JSON {
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Quotes, and each byte escaped at most as `\u00XX`.
    static func stringBound(_ value: String) -> Int { 2 + 6 * value.utf8.count }

    /// Bytewise (UTF-8) order, as JWT members are written.
    static func precedes(_ left: String, _ right: String) -> Bool {
        let fast = left.utf8.withContiguousStorageIfAvailable { left in
            right.utf8.withContiguousStorageIfAvailable { right in left.lexicographicallyPrecedes(right) }
        }
        return (fast ?? nil) ?? left.utf8.lexicographicallyPrecedes(right.utf8)
    }
}

/// A claim's value as the token writes it: a string, or any JSON value.
protocol JWTClaimValue {
    /// At least the number of bytes ``writeJSON(to:)`` writes.
    var jsonBound: Int { get }
    func writeJSON(to writer: inout ByteWriter)
}

extension String: JWTClaimValue {
    var jsonBound: Int { JSON.stringBound(self) }
    func writeJSON(to writer: inout ByteWriter) { writer.writeJSONString(self) }
}

extension JSONValue: JWTClaimValue {
    var jsonBound: Int {
        switch self {
        case .string(let value): JSON.stringBound(value)
        case .integer: 20
        case .number: 32  // Double's description is at most 24 bytes ("-2.2250738585072014e-308")
        case .bool: 5
        case .null: 4
        case .array(let values): values.reduce(2) { $0 + $1.jsonBound + 1 }
        case .object(let members): members.reduce(2) { $0 + JSON.stringBound($1.key) + $1.value.jsonBound + 2 }
        }
    }

    /// RFC 8259 text, keys sorted bytewise, `/` not escaped.
    func writeJSON(to writer: inout ByteWriter) {
        switch self {
        case .string(let value): writer.writeJSONString(value)
        case .integer(let value): writer.writeInteger(value)
        case .number(let value):
            writer.write(value.isFinite ? "\(value)" : "null")
        case .bool(let value): writer.write(value ? "true" as StaticString : "false")
        case .null: writer.write("null" as StaticString)
        case .array(let values):
            writer.write(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { writer.write(UInt8(ascii: ",")) }
                value.writeJSON(to: &writer)
            }
            writer.write(UInt8(ascii: "]"))
        case .object(let members):
            writer.write(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: JSON.precedes).enumerated() {
                if index > 0 { writer.write(UInt8(ascii: ",")) }
                writer.writeJSONString(key)
                writer.write(UInt8(ascii: ":"))
                members[key]!.writeJSON(to: &writer)
            }
            writer.write(UInt8(ascii: "}"))
        }
    }
}

/// Base64url without padding (RFC 7515 section 2).
/// base64url without padding (RFC 4648 section 5), as JWTs, PKCE and RFC 7522 use it.
public enum Base64URL {
    static var alphabet: StaticString { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" }

    /// The length of `count` bytes encoded.
    static func encodedCount(_ count: Int) -> Int { (count * 4 + 2) / 3 }

    /// Encodes `bytes` at the start of `output`; returns the count written, `encodedCount(bytes.count)`.
    static func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(encodedCount(bytes.count) <= output.count, "Base64URL: output too small")
        // In bounds: the precondition above, and 4 characters for each 3 input bytes, then 2 or 3 for
        // a last 1 or 2, is exactly `encodedCount`. Alphabet indices are masked to 0...63.
        let alphabet = Self.alphabet.utf8Start
        var read = 0, written = 0
        while read + 3 <= bytes.count {
            let chunk = UInt32(bytes[read]) << 16 | UInt32(bytes[read + 1]) << 8 | UInt32(bytes[read + 2])
            output[written] = alphabet[Int(chunk >> 18 & 63)]
            output[written + 1] = alphabet[Int(chunk >> 12 & 63)]
            output[written + 2] = alphabet[Int(chunk >> 6 & 63)]
            output[written + 3] = alphabet[Int(chunk & 63)]
            read += 3
            written += 4
        }
        let rest = bytes.count - read
        if rest > 0 {
            let chunk = UInt32(bytes[read]) << 16 | (rest == 2 ? UInt32(bytes[read + 1]) << 8 : 0)
            output[written] = alphabet[Int(chunk >> 18 & 63)]
            output[written + 1] = alphabet[Int(chunk >> 12 & 63)]
            if rest == 2 { output[written + 2] = alphabet[Int(chunk >> 6 & 63)] }
            written += rest + 1
        }
        return written
    }

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Array(bytes).withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: encodedCount(bytes.count)) { buffer in
                var writer = ByteWriter(buffer)
                writer.writeBase64URL(bytes)
                return writer.count
            }
        }
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
