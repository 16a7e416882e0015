import Foundation
import SigilCore

/// Writes bytes into memory sized by the caller. Every write checks the bound (a precondition), so
/// an undersized buffer stops the process rather than overflowing; there is no per-write
/// uniqueness or growth check as with `Array.append`.
struct ByteWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        precondition(count < buffer.count, "ByteWriter: buffer too small")
        buffer[count] = byte
        count += 1
    }

    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(bytes.count <= buffer.count - count, "ByteWriter: buffer too small")
        (buffer.baseAddress! + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    mutating func write(_ text: StaticString) {
        write(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func write(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ write($0) }) == nil {
            for byte in text.utf8 { write(byte) }
        }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"
    private static let upperHexDigits: StaticString = "0123456789ABCDEF"

    /// Lowercase hexadecimal.
    mutating func writeHex(_ bytes: UnsafeRawBufferPointer) {
        let digits = Self.hexDigits.utf8Start
        for byte in bytes {
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
    }

    /// The byte itself when unreserved (`A-Z a-z 0-9 - . _ ~`), else `%XX`.
    mutating func writePercentEncoded(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            write(byte)
        default:
            let digits = Self.upperHexDigits.utf8Start
            write(UInt8(ascii: "%"))
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
    }
}

/// ASCII case helpers that never allocate.
enum ASCII {
    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// Writes `text`'s UTF-8 with ASCII letters lowercased at `output`; returns the byte count.
    static func lowercase(_ text: String, writingTo output: UnsafeMutablePointer<UInt8>) -> Int {
        if let count = text.utf8.withContiguousStorageIfAvailable({ bytes -> Int in
            for index in 0..<bytes.count { output[index] = lower(bytes[index]) }
            return bytes.count
        }) {
            return count
        }
        var count = 0
        for byte in text.utf8 { output[count] = lower(byte); count += 1 }
        return count
    }
    @inline(__always) static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte & 0xDF : byte }

    /// Whether `name` equals the lowercase ASCII `lowercase`, ignoring case.
    static func equalsIgnoringCase(_ name: String, _ lowercase: StaticString) -> Bool {
        guard name.utf8.count == lowercase.utf8CodeUnitCount else { return false }
        let target = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        var utf8 = name.utf8.makeIterator()
        for expected in target {
            guard let byte = utf8.next(), lower(byte) == expected else { return false }
        }
        return utf8.next() == nil
    }

    /// Bytewise order of two ranges of `bytes` (memcmp, then the shorter first): negative, zero or
    /// positive.
    static func compare(_ bytes: UnsafeBufferPointer<UInt8>, _ left: Range<Int>, _ right: Range<Int>) -> Int {
        let common = min(left.count, right.count)
        if common > 0, let base = bytes.baseAddress {
            let order = memcmp(base + left.lowerBound, base + right.lowerBound, common)
            if order != 0 { return Int(order) }
        }
        return left.count - right.count
    }
}
