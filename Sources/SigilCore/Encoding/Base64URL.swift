public import Foundation

/// base64url without padding (RFC 4648 section 5), as JWTs (RFC 7515 section 2), PKCE (RFC 7636)
/// and SAML bearer assertions (RFC 7522) use it.
public enum Base64URL {
    @inlinable
    public static var alphabet: StaticString { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" }

    /// The length of `count` bytes encoded.
    @inlinable
    public static func encodedCount(_ count: Int) -> Int { (count * 4 + 2) / 3 }

    /// Encodes `bytes` at the start of `output`; returns the count written, `encodedCount(bytes.count)`.
    @inlinable
    public static func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(encodedCount(bytes.count) <= output.count, "Base64URL: output too small")
        // In bounds: the precondition above, and 4 characters for each 3 input bytes, then 2 or 3 for
        // a last 1 or 2, is exactly `encodedCount`. Alphabet indices are masked to 0...63.
        let alphabet = Self.alphabet.utf8Start
        var read = 0
        var written = 0
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

    /// The bytes of `text` (padding optional), or `nil` when it is not base64url.
    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
