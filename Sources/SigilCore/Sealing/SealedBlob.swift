/// A sealed value as stored: the bytes of Sigil's versioned blob format.
///
/// Format version 1 (also in SECURITY.md):
///
/// | offset | size   | field                                                              |
/// |--------|--------|--------------------------------------------------------------------|
/// | 0      | 1      | format version, `0x01`                                             |
/// | 1      | 4      | key id, big-endian; `0` is the master key, else a wrapped key's id  |
/// | 5      | 24     | random nonce                                                       |
/// | 29     | n + 16 | XChaCha20-Poly1305 ciphertext of the n-byte value, then the tag     |
///
/// The header (bytes 0 to 28) is authenticated as part of the additional data, together with the
/// vault id and the blob's ``SealContext``; see ``SealContext/additionalData(vaultID:header:)``.
public struct SealedBlob: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    static let headerByteCount = 1 + 4 + 24

    public let keyID: UInt32
    let nonce: [UInt8]
    let ciphertext: [UInt8]

    init(keyID: UInt32, nonce: [UInt8], ciphertext: [UInt8]) {
        self.keyID = keyID
        self.nonce = nonce
        self.ciphertext = ciphertext
    }

    /// Parses stored bytes. Only the structure is checked here; authenticity when opened.
    public init(bytes: [UInt8]) throws(SigilError) {
        let minimum = Self.headerByteCount + XChaCha20Poly1305.tagByteCount
        guard bytes.count >= minimum else {
            throw SigilError(
                .malformedBlob, "sealed blob is \(bytes.count) bytes, shorter than the \(minimum) of its header and tag"
            )
        }
        guard bytes[0] == Self.formatVersion else {
            throw SigilError(
                .malformedBlob,
                "sealed blob has format version \(bytes[0]); this version of Sigil reads version \(Self.formatVersion)")
        }
        self.keyID = bytes[1..<5].reduce(0) { $0 << 8 | UInt32($1) }
        self.nonce = Array(bytes[5..<Self.headerByteCount])
        self.ciphertext = Array(bytes[Self.headerByteCount...])
    }

    /// The header: format version, key id and nonce.
    var header: [UInt8] {
        var header: [UInt8] = [Self.formatVersion]
        header.reserveCapacity(Self.headerByteCount)
        withUnsafeBytes(of: keyID.bigEndian) { header.append(contentsOf: $0) }
        header.append(contentsOf: nonce)
        return header
    }

    /// The stored form.
    public var bytes: [UInt8] { header + ciphertext }
}

extension SealedBlob: CustomStringConvertible {
    public var description: String { "SealedBlob(v\(Self.formatVersion), key \(keyID), \(ciphertext.count) bytes)" }
}
