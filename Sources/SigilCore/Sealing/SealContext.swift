/// Where a sealed value belongs. Bound into the blob's additional data, so a blob copied to another
/// row, field, version or vault fails to open.
public struct SealContext: Sendable, Hashable, CustomStringConvertible {
    /// What kind of value: `secret`, `wrapped-key`.
    public let purpose: String
    /// The place, most general first: for a secret its owner kind, owner id, field and version.
    public let components: [String]

    public init(purpose: String, components: [String]) {
        self.purpose = purpose
        self.components = components
    }

    public var description: String { ([purpose] + components).joined(separator: "/") }

    static let domain = Array("sigil/aad/v1".utf8)

    /// `"sigil/aad/v1" || lp(vault id) || lp(header) || lp(purpose) || lp(component)...`, where
    /// `lp(x)` is `x`'s length as a 4-byte big-endian integer followed by `x`. Length prefixes keep
    /// two different contexts from ever encoding to the same bytes.
    func additionalData(vaultID: VaultID, header: [UInt8]) -> [UInt8] {
        var data = Self.domain
        func append(_ part: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt32(part.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: part)
        }
        append(vaultID.bytes)
        append(header)
        append(Array(purpose.utf8))
        for component in components { append(Array(component.utf8)) }
        return data
    }
}
