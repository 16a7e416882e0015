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
        guard hex.utf8.count == 32, let bytes = Hex.decode(hex) else {
            throw SigilError(.malformedBlob, "vault id \"\(hex)\" is not 32 hexadecimal digits")
        }
        self.bytes = bytes
    }

    public var hex: String {
        Hex.encode(bytes)
    }

    public var description: String { hex }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
