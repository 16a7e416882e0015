import Foundation
import SigilCore

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
