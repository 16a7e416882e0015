import Foundation
import SigilCore

/// Task 1 of the specification: the canonical request (AWS IAM User Guide, "Create a canonical
/// request").
extension SigV4Signer {
    /// `method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash`,
    /// written into one buffer sized from its parts.
    func canonicalRequest(
        method: String, url: SigV4URL, query: UnsafeBufferPointer<UInt8>, headers: CanonicalHeaders, payloadHash: String
    ) -> [UInt8] {
        url.withPath { path in
            // Encoding at most triples the path (one byte to "%XX"); "/" stands for an empty path.
            let capacity =
                method.utf8.count + 1 + max(path.count * 3, 1) + 1 + query.count + 1
                + headers.canonicalByteCount + 2 + headers.signedByteCount + 1 + payloadHash.utf8.count
            return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                var writer = ByteWriter(buffer)
                for byte in method.utf8 { writer.write(ASCII.upper(byte)) }
                writer.write(0x0A)
                writeCanonicalURI(path, to: &writer)
                writer.write(0x0A)
                Self.writeCanonicalQuery(query, to: &writer)
                writer.write(0x0A)
                headers.writeCanonical(to: &writer)
                writer.write(0x0A)
                writer.write(0x0A)
                headers.withSignedNames { writer.write($0) }
                writer.write(0x0A)
                writer.write(payloadHash)
                count = writer.count
            }
        }
    }

    /// S3: the path as given. Others: dot segments and empty segments removed (RFC 3986 section
    /// 5.2.4), then every byte but unreserved characters and `/` percent-encoded, which encodes an
    /// already encoded path a second time, as the specification asks. An empty path is `/`.
    func writeCanonicalURI(_ path: UnsafeBufferPointer<UInt8>, to writer: inout ByteWriter) {
        if path.isEmpty {
            writer.write(UInt8(ascii: "/"))
            return
        }
        if isS3 {
            writer.write(path)
            return
        }
        var segments: [Range<Int>] = []
        var start = 0
        while start < path.count {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            let length = end - start
            if length == 1 && path[start] == UInt8(ascii: ".") {
                // "." names the current segment.
            } else if length == 2 && path[start] == UInt8(ascii: ".") && path[start + 1] == UInt8(ascii: ".") {
                _ = segments.popLast()
            } else if length > 0 {
                segments.append(start..<end)
            }
            start = end + 1
        }
        if path.first == UInt8(ascii: "/") { writer.write(UInt8(ascii: "/")) }
        for (index, segment) in segments.enumerated() {
            if index > 0 { writer.write(UInt8(ascii: "/")) }
            for byte in path[segment] { writer.writePercentEncoded(byte) }
        }
        if path.last == UInt8(ascii: "/") && !segments.isEmpty {
            writer.write(UInt8(ascii: "/"))
        }
    }

    /// The query's `key=value` pairs as written, sorted by key then value (bytewise).
    static func writeCanonicalQuery(_ query: UnsafeBufferPointer<UInt8>, to writer: inout ByteWriter) {
        guard !query.isEmpty else { return }
        var pairs: [(key: Range<Int>, value: Range<Int>)] = []
        pairs.reserveCapacity(16)
        var start = 0
        while start <= query.count {
            var end = start
            var equals: Int?
            while end < query.count && query[end] != UInt8(ascii: "&") {
                if equals == nil && query[end] == UInt8(ascii: "=") { equals = end }
                end += 1
            }
            if let equals {
                pairs.append((start..<equals, (equals + 1)..<end))
            } else {
                pairs.append((start..<end, end..<end))
            }
            start = end + 1
        }
        pairs.sort { left, right in
            let order = ASCII.compare(query, left.key, right.key)
            return order != 0 ? order < 0 : ASCII.compare(query, left.value, right.value) < 0
        }
        for (index, pair) in pairs.enumerated() {
            if index > 0 { writer.write(UInt8(ascii: "&")) }
            writer.write(UnsafeBufferPointer(rebasing: query[pair.key]))
            writer.write(UInt8(ascii: "="))
            writer.write(UnsafeBufferPointer(rebasing: query[pair.value]))
        }
    }

    /// The signed headers: lowercased names, sorted; values trimmed with runs of white space folded
    /// to one space; a repeated name's values joined with `,` in order. `host` comes from the URL
    /// when absent.
    ///
    /// Works on one flat byte buffer: each name is lowercased and each value trimmed into it as the
    /// headers are read, and entries are sorted by index, so a request costs a few allocations
    /// whatever its number of headers.
    struct CanonicalHeaders {
        struct Entry {
            var name: Range<Int>
            var value: Range<Int>
            var order: Int
            /// The same name as the entry before: only `,value` is written.
            var continuesPrevious = false
        }

        /// Lowercased names and trimmed values, back to back.
        private let storage: [UInt8]
        /// Sorted by name, then by order of appearance.
        private let entries: [Entry]
        /// `name:value` lines joined by `\n` (no trailing newline).
        let canonicalByteCount: Int
        /// `name;name;...`.
        let signedByteCount: Int

        init(_ headers: [(name: String, value: String)], url: SigV4URL) {
            // Names and trimmed values never grow, so the summed lengths hold them all.
            let capacity = headers.reduce(SigV4Signer.hostName.count + url.authorityRange.count) {
                $0 + $1.name.utf8.count + $1.value.utf8.count
            }
            var entries: [Entry] = []
            entries.reserveCapacity(headers.count + 1)
            let storage = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, used in
                let base = buffer.baseAddress!
                used = 0
                var hasHost = false
                for (order, header) in headers.enumerated() {
                    let nameStart = used
                    used += ASCII.lowercase(header.name, writingTo: base + used)
                    let name = UnsafeBufferPointer(start: base + nameStart, count: used - nameStart)
                    if SigV4Signer.isUnsigned(name) {
                        used = nameStart
                        continue
                    }
                    if name.elementsEqual(SigV4Signer.hostName) { hasHost = true }
                    let valueStart = used
                    used += SigV4Signer.trimAll(header.value, writingTo: base + used)
                    entries.append(Entry(name: nameStart..<valueStart, value: valueStart..<used, order: order))
                }
                if !hasHost {
                    let nameStart = used
                    for byte in SigV4Signer.hostName {
                        base[used] = byte
                        used += 1
                    }
                    let valueStart = used
                    used += url.writeHostHeader(to: base + used)
                    entries.append(Entry(name: nameStart..<valueStart, value: valueStart..<used, order: headers.count))
                }
            }
            var canonical = 0
            var signed = 0
            storage.withUnsafeBufferPointer { storage in
                entries.sort { left, right in
                    let order = ASCII.compare(storage, left.name, right.name)
                    return order != 0 ? order < 0 : left.order < right.order
                }
                for index in entries.indices {
                    if index > 0 && ASCII.compare(storage, entries[index].name, entries[index - 1].name) == 0 {
                        entries[index].continuesPrevious = true
                        canonical += 1 + entries[index].value.count
                        continue
                    }
                    let separator = index > 0 ? 1 : 0
                    canonical += separator + entries[index].name.count + 1 + entries[index].value.count
                    signed += separator + entries[index].name.count
                }
            }
            self.storage = storage
            self.entries = entries
            canonicalByteCount = canonical
            signedByteCount = signed
        }

        func writeCanonical(to writer: inout ByteWriter) {
            storage.withUnsafeBufferPointer { storage in
                for (index, entry) in entries.enumerated() {
                    if entry.continuesPrevious {
                        writer.write(UInt8(ascii: ","))
                    } else {
                        if index > 0 { writer.write(0x0A) }
                        writer.write(UnsafeBufferPointer(rebasing: storage[entry.name]))
                        writer.write(UInt8(ascii: ":"))
                    }
                    writer.write(UnsafeBufferPointer(rebasing: storage[entry.value]))
                }
            }
        }

        /// Calls `body` with `name;name;...`.
        func withSignedNames<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            storage.withUnsafeBufferPointer { storage in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(signedByteCount, 1)) { buffer in
                    var writer = ByteWriter(buffer)
                    for entry in entries where !entry.continuesPrevious {
                        if writer.count > 0 { writer.write(UInt8(ascii: ";")) }
                        writer.write(UnsafeBufferPointer(rebasing: storage[entry.name]))
                    }
                    return body(UnsafeBufferPointer(rebasing: buffer[..<writer.count]))
                }
            }
        }
    }

    private static let hostName = Array("host".utf8)
    private static let unsignedHeaderBytes: [[UInt8]] = unsignedHeaders.map { Array($0.utf8) }

    static func isUnsigned(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        // The list's names are 2, 6, 7, 10, 15, 17, 18 or 19 bytes long; most headers are ruled out
        // by length alone.
        switch name.count {
        case 2, 6, 7, 10, 15, 17, 18, 19:
            unsignedHeaderBytes.contains { $0.count == name.count && $0.elementsEqual(name) }
        default: false
        }
    }

    /// `' '.join(value.split())`: no leading or trailing white space, runs folded to one space,
    /// with Python's `str.split()` idea of white space.
    ///
    /// Writes the trimmed value at `output` (room for `value.utf8.count` bytes); returns its length.
    static func trimAll(_ value: String, writingTo output: UnsafeMutablePointer<UInt8>) -> Int {
        if let count = value.utf8.withContiguousStorageIfAvailable({ trimASCII($0, writingTo: output) }), let count {
            return count
        }
        if let count = Array(value.utf8).withUnsafeBufferPointer({ trimASCII($0, writingTo: output) }) { return count }
        // Non-ASCII: Unicode white space counts too (U+0085, U+00A0, U+2000...).
        var words: [String] = []
        var current = ""
        for scalar in value.unicodeScalars {
            if isPythonWhitespace(scalar) {
                if !current.isEmpty {
                    words.append(current)
                    current = ""
                }
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        var count = 0
        for byte in words.joined(separator: " ").utf8 {
            output[count] = byte
            count += 1
        }
        return count
    }

    /// The ASCII case of ``trimAll(_:writingTo:)``; `nil` when the value has a non-ASCII byte.
    static func trimASCII(_ bytes: UnsafeBufferPointer<UInt8>, writingTo output: UnsafeMutablePointer<UInt8>) -> Int? {
        // Most values are printable ASCII with single spaces inside: copied as they are.
        if let first = bytes.first, let last = bytes.last, first > 0x20, last > 0x20, let base = bytes.baseAddress {
            var plain = true
            var afterSpace = false
            for byte in bytes {
                if byte &- 0x21 <= 0x5E {  // "!"..."~"
                    afterSpace = false
                } else if byte == 0x20 && !afterSpace {
                    afterSpace = true
                } else {
                    // Other white space, a run of spaces, a control or non-ASCII byte.
                    plain = false
                    break
                }
            }
            if plain {
                output.update(from: base, count: bytes.count)
                return bytes.count
            }
        }
        var count = 0
        var pendingSpace = false
        for byte in bytes {
            if byte > 0x20 {
                // Printable (or not ASCII): the common case, one comparison.
                if byte >= 0x80 { return nil }
            } else if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || byte >= 0x1C {
                pendingSpace = count > 0
                continue
            }
            if pendingSpace {
                output[count] = 0x20
                count += 1
                pendingSpace = false
            }
            output[count] = byte
            count += 1
        }
        return count
    }

    /// `str.isspace()`: these ASCII controls as well as Unicode's white space.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
