import Foundation

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
        for byte in text.utf8 {
            output[count] = lower(byte)
            count += 1
        }
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
