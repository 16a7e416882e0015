public import SigilCore

/// A form a browser posted (`application/x-www-form-urlencoded`, HTML's form encoding): the
/// pages' forms and the SAML binding's. Bounded (``maximumBytes``, ``maximumFields``), every name
/// once; values are kept as ``SecretBytes`` (a form may carry a password) and read as text only
/// where they are not secret. Fuzzed (`Fuzz/`, target `inbound`).
public struct InboundForm: Sendable {
    /// The largest body read (a SAML response with its certificate fits many times over).
    public static let maximumBytes = 256 << 10
    public static let maximumFields = 100

    private var fields: [String: SecretBytes] = [:]

    /// A form without fields.
    public init() {}

    /// The form in `body`. Errors name the field and the problem, never a value.
    public init(parsing body: some Collection<UInt8>) throws(SigilError) {
        guard body.count <= Self.maximumBytes else {
            throw SigilError(.invalidRequest, "the form is larger than \(Self.maximumBytes >> 10) KiB")
        }
        guard !body.isEmpty else { return }
        // Browsers send forms as ASCII with everything else percent-encoded: raw bytes that are not
        // even UTF-8 are no form.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw SigilError(.invalidRequest, "the form is not text (application/x-www-form-urlencoded)")
        }
        let pairs = body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
        guard pairs.count <= Self.maximumFields else {
            throw SigilError(.invalidRequest, "the form has more than \(Self.maximumFields) fields")
        }
        for pair in pairs {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = pair[pair.startIndex..<(equals ?? pair.endIndex)]
            guard rawName.count <= 1024,
                let name = String(
                    validating: PercentEncoding.decode(String(decoding: rawName, as: UTF8.self), plusIsSpace: true),
                    as: UTF8.self),
                !name.isEmpty, name.utf8.count <= 256,
                !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else {
                throw SigilError(.invalidRequest, "the form has a field whose name is empty, too long or not text")
            }
            guard fields[name] == nil else {
                throw SigilError(.invalidRequest, "the form's field \(name.sanitizedForMessage) appears more than once")
            }
            var value =
                equals.map {
                    PercentEncoding.decode(
                        String(decoding: pair[pair.index(after: $0)...], as: UTF8.self), plusIsSpace: true)
                }
                ?? []
            fields[name] = SecretBytes(copying: value)
            value.withUnsafeMutableBufferPointer { $0.initialize(repeating: 0) }
        }
    }

    /// The names of the fields, in no particular order.
    public var names: [String] { Array(fields.keys) }

    /// A secret field's value (`nil`: absent or empty).
    public func secret(_ name: String) -> SecretBytes? {
        guard let value = fields[name], !value.isEmpty else { return nil }
        return value
    }

    /// A field that is not secret, as text (`nil`: absent, empty or not UTF-8).
    public subscript(_ name: String) -> String? {
        guard let value = fields[name], !value.isEmpty else { return nil }
        return value.withUnsafeBytes { String(validating: $0, as: UTF8.self) }
    }
}
