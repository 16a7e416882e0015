internal import CSodium

/// A vault's random 128-bit identity, bound into every blob it seals.
public struct VaultID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public static func random() -> VaultID {
        Sodium.ensureInitialised()
        var bytes = [UInt8](repeating: 0, count: 16)
        randombytes_buf(&bytes, bytes.count)
        return VaultID(validated: bytes)
    }

    private init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses the 32-hex-digit form.
    public init(hex: String) throws(SigilError) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else {
            throw SigilError(.malformedBlob, "vault id \"\(hex)\" is not 32 hexadecimal digits")
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else {
                throw SigilError(.malformedBlob, "vault id \"\(hex)\" is not 32 hexadecimal digits")
            }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    public var hex: String {
        bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    public var description: String { hex }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
