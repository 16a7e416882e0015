import SigilCore
import SigilModel

/// A strict JSON reader (RFC 8259) into ``ConfigNode``, with what Foundation's decoders lack for a
/// security configuration:
/// - a key that appears twice in an object is refused (section 4 leaves it open; Foundation kept
///   the first value while jq, Python and JavaScript keep the last, so the file meant two things);
/// - members keep their order and every node its line, for messages;
/// - nesting is bounded (``maximumDepth``), so no input exhausts the stack.
/// Errors name the line and the problem, never the text around it (it may hold a secret).
struct StrictJSON {
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private let fileName: String

    private init(_ text: String, fileName: String) {
        bytes = Array(text.utf8)
        self.fileName = fileName
    }

    static func parse(_ text: String, fileName: String) throws(SigilError) -> ConfigNode {
        var reader = StrictJSON(text, fileName: fileName)
        reader.skipWhitespace()
        let node = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == reader.bytes.count else {
            throw reader.failure("unexpected characters after the document")
        }
        return node
    }

    private func failure(_ problem: String) -> SigilError {
        SigilError(.invalidConfiguration, "\(fileName):\(line): not valid JSON: \(problem)")
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            if byte == 0x0A { line += 1 }
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(SigilError) {
        guard current == byte else { throw failure("expected \(what)") }
        index += 1
    }

    private mutating func value(depth: Int) throws(SigilError) -> ConfigNode {
        guard depth < Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) levels deep") }
        let start = line
        switch current {
        case UInt8(ascii: "{"):
            index += 1
            var pairs: [(key: String, value: ConfigNode)] = []
            var seen = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .mapping(pairs, line: start)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
                let keyLine = line
                let key = try string()
                guard seen.insert(key).inserted else {
                    // Quoted only when it looks like a key: anything else may be a value pasted in its place.
                    let shown = Names.quotedIfName(key).map { "key \($0)" } ?? "a key"
                    throw SigilError(
                        .invalidConfiguration,
                        "\(fileName):\(keyLine): not valid JSON: \(shown) appears twice in the object at line \(start); keep one"
                    )
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after a key")
                skipWhitespace()
                pairs.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "',' or '}' in an object")
                return .mapping(pairs, line: start)
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [ConfigNode] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .sequence(items, line: start)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "]"), "',' or ']' in an array")
                return .sequence(items, line: start)
            }
        case UInt8(ascii: "\""):
            return .scalar(try string(), plain: false, line: start)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            for literal in ["true", "false", "null"] where bytes[index...].starts(with: literal.utf8) {
                index += literal.utf8.count
                return .scalar(literal, plain: true, line: start)
            }
            throw failure("expected a value")
        case .some(let byte) where byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte):
            return .scalar(try number(), plain: true, line: start)
        default:
            throw failure("expected a value")
        }
    }

    /// RFC 8259 section 6, kept as written (the field it fills decides what it means).
    private mutating func number() throws(SigilError) -> String {
        let start = index
        func digits() -> Int {
            let first = index
            while let byte = current, (0x30...0x39).contains(byte) { index += 1 }
            return index - first
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw failure("a number needs digits")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw failure("a number needs digits after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw failure("a number needs digits in its exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// RFC 8259 section 7: escapes decoded, surrogate pairs joined, control characters refused.
    private mutating func string() throws(SigilError) -> String {
        index += 1  // the opening quote
        var run = index  // start of the bytes copied as they are
        var result = ""
        func flush(_ end: Int) {
            result += String(decoding: bytes[run..<end], as: UTF8.self)
        }
        while true {
            guard let byte = current else { throw failure("a string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                flush(index)
                index += 1
                return result
            case UInt8(ascii: "\\"):
                flush(index)
                index += 1
                guard let escape = current else { throw failure("a string is not closed") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""): result += "\""
                case UInt8(ascii: "\\"): result += "\\"
                case UInt8(ascii: "/"): result += "/"
                case UInt8(ascii: "b"): result += "\u{08}"
                case UInt8(ascii: "f"): result += "\u{0C}"
                case UInt8(ascii: "n"): result += "\n"
                case UInt8(ascii: "r"): result += "\r"
                case UInt8(ascii: "t"): result += "\t"
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard current == UInt8(ascii: "\\"), index + 1 < bytes.count,
                            bytes[index + 1] == UInt8(ascii: "u")
                        else {
                            throw failure("a \\u escape holds half of a surrogate pair")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw failure("a \\u escape holds half of a surrogate pair")
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else {
                        throw failure("a \\u escape holds half of a surrogate pair")
                    }
                    result.unicodeScalars.append(scalar)
                default:
                    throw failure("a string has an unknown escape")
                }
                run = index
            case 0x00..<0x20:
                throw failure("a string has a control character (escape it)")
            default:
                index += 1
            }
        }
    }

    private mutating func hex4() throws(SigilError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("a \\u escape needs four hex digits") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Hex.value(of: bytes[index]) else { throw failure("a \\u escape needs four hex digits") }
            code = code << 4 | UInt32(digit)
            index += 1
        }
        return code
    }
}
