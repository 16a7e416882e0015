/// Writes bytes into memory sized by the caller. Every write checks the bound (a precondition), so
/// an undersized buffer stops the process rather than overflowing; there is no per-write
/// uniqueness or growth check as with `Array.append`.
///
/// The one byte writer of every module: SigV4's canonical request, JWTs' JSON and base64url, hex
/// and percent-encoding (with ``Hex``, ``PercentEncoding``, ``Base64URL`` and ``JSON``). Inlinable,
/// so that the signers' hot loops compile to plain stores.
public struct ByteWriter {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<UInt8>
    /// The bytes written so far.
    public var count: Int { written }
    @usableFromInline var written = 0

    @inlinable
    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    @inlinable @inline(__always)
    public mutating func write(_ byte: UInt8) {
        precondition(written < buffer.count, "ByteWriter: buffer too small")
        buffer[written] = byte
        written += 1
    }

    @inlinable
    public mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(bytes.count <= buffer.count - written, "ByteWriter: buffer too small")
        (buffer.baseAddress! + written).update(from: source, count: bytes.count)
        written += bytes.count
    }

    @inlinable
    public mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    @inlinable
    public mutating func write(_ text: StaticString) {
        write(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inlinable
    public mutating func write(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ write($0) }) == nil {
            for byte in text.utf8 { write(byte) }
        }
    }

    /// Lowercase hexadecimal (``Hex``).
    @inlinable
    public mutating func writeHex(_ bytes: UnsafeRawBufferPointer) {
        let digits = Hex.lowercaseDigits.utf8Start
        for byte in bytes {
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
    }

    /// The byte itself when unreserved (RFC 3986 section 2.3), else `%XX` in capitals
    /// (``PercentEncoding``).
    @inlinable
    public mutating func writePercentEncoded(_ byte: UInt8) {
        if PercentEncoding.isUnreserved(byte) {
            write(byte)
        } else {
            let digits = Hex.uppercaseDigits.utf8Start
            write(UInt8(ascii: "%"))
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
    }

    /// Decimal digits, without going through `String`.
    @inlinable
    public mutating func writeInteger(_ value: Int) {
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

    /// Base64url without padding (``Base64URL``), encoded 48 bytes at a time into a 64-byte stack
    /// block that is then written whole (one bounds check per block, not per character).
    @inlinable
    public mutating func writeBase64URL(_ bytes: UnsafeRawBufferPointer) {
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
    /// not. At most ``JSON/stringBound(_:)`` bytes.
    @inlinable
    public mutating func writeJSONString(_ value: String) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
            writeJSONString(UnsafeRawBufferPointer(utf8))
        }
        if done == nil {
            write(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if JSON.needsEscape(byte) { writeJSONEscaped(byte) } else { write(byte) }
            }
            write(UInt8(ascii: "\""))
        }
    }

    /// `utf8` (UTF-8 text, a secret's bytes say) as a JSON string.
    @inlinable
    public mutating func writeJSONString(_ utf8: UnsafeRawBufferPointer) {
        write(UInt8(ascii: "\""))
        let bytes = utf8.assumingMemoryBound(to: UInt8.self)
        // Runs of bytes that need no escape are copied whole.
        var start = 0
        for index in bytes.indices where JSON.needsEscape(bytes[index]) {
            write(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            writeJSONEscaped(bytes[index])
            start = index + 1
        }
        write(UnsafeBufferPointer(rebasing: bytes[start...]))
        write(UInt8(ascii: "\""))
    }

    @inlinable
    mutating func writeJSONEscaped(_ byte: UInt8) {
        write(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): write(byte)
        case 0x0A: write(UInt8(ascii: "n"))
        case 0x0D: write(UInt8(ascii: "r"))
        case 0x09: write(UInt8(ascii: "t"))
        default:
            let digits = Hex.lowercaseDigits.utf8Start
            write("u00" as StaticString)
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
    }
}
