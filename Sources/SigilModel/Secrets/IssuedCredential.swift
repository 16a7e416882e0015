public import SigilCore

/// Secret fields a provider issued for a principal (and, for a per-user principal, one user):
/// AWS STS temporary credentials (`accessKeyId`, `secretAccessKey`, `sessionToken`), an OAuth 2.0
/// access token. Held in memory only as `SecretBytes`; sealed in the vault like every secret.
public struct IssuedCredential: Sendable {
    public enum Kind: String, Sendable, Hashable {
        case awsSTS = "aws-sts"
        case oauth2 = "oauth2"
    }

    public var kind: Kind
    public var fields: [String: SecretBytes]
    /// When it was obtained and when it stops being valid, in Unix seconds (`nil`: no stated expiry).
    public var obtainedAt: Int64
    public var expiresAt: Int64?
    /// When its refresh token stops being valid, when the provider said (Unix seconds).
    public var refreshExpiresAt: Int64?

    public init(
        kind: Kind, fields: [String: SecretBytes], obtainedAt: Int64, expiresAt: Int64?, refreshExpiresAt: Int64? = nil
    ) {
        self.kind = kind
        self.fields = fields
        self.obtainedAt = obtainedAt
        self.expiresAt = expiresAt
        self.refreshExpiresAt = refreshExpiresAt
    }

    /// Whether it is still good at `now` with `margin` seconds to spare. The margin is at most half
    /// the value's lifetime, so a value that lives less than twice the margin (a 5-second token
    /// under the default 60-second margin) is still used for the first half of its life instead of
    /// being replaced on every use.
    public func isFresh(at now: Int64, margin: Int64) -> Bool {
        guard let expiresAt else { return true }
        let lifetime = expiresAt.subtractingReportingOverflow(obtainedAt)
        let effective = lifetime.overflow ? margin : min(margin, max(0, lifetime.partialValue / 2))
        return expiresAt.subtractingReportingOverflow(effective).partialValue > now
    }

    /// The fields as one byte string for sealing: for each field, sorted by name, the name's and the
    /// value's lengths (4 bytes, big-endian) each followed by its bytes.
    public func encodedFields() -> SecretBytes {
        let names = fields.keys.sorted()
        let total = names.reduce(0) { $0 + 8 + $1.utf8.count + fields[$1]!.count }
        return SecretBytes(count: total) { buffer in
            var offset = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { length in
                    buffer.baseAddress!.advanced(by: offset).copyMemory(from: length.baseAddress!, byteCount: 4)
                }
                offset += 4
                if let base = bytes.baseAddress, bytes.count > 0 {
                    buffer.baseAddress!.advanced(by: offset).copyMemory(from: base, byteCount: bytes.count)
                }
                offset += bytes.count
            }
            for name in names {
                Array(name.utf8).withUnsafeBytes(put)
                fields[name]!.withUnsafeBytes(put)
            }
        }
    }

    /// The fields from ``encodedFields()``; `nil` when the bytes are not in that form.
    public static func decodeFields(_ encoded: SecretBytes) -> [String: SecretBytes]? {
        encoded.withUnsafeBytes { bytes -> [String: SecretBytes]? in
            var fields: [String: SecretBytes] = [:]
            var offset = 0
            func take() -> UnsafeRawBufferPointer? {
                guard bytes.count - offset >= 4 else { return nil }
                let length =
                    Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                    | Int(bytes[offset + 3])
                offset += 4
                guard bytes.count - offset >= length else { return nil }
                defer { offset += length }
                return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
            }
            while offset < bytes.count {
                guard let name = take(), let value = take() else { return nil }
                fields[String(decoding: name, as: UTF8.self)] = SecretBytes(copying: value)
            }
            return fields
        }
    }
}

/// Whose issued credential: a principal, and the acting user for a per-user principal.
public struct IssuedCredentialKey: Sendable, Hashable, CustomStringConvertible {
    public let principal: PrincipalRef
    public let user: String?
    /// The fields' hash, worked out once: the key is looked up on every request that carries an
    /// issued credential, and is made far less often.
    private let hashCode: Int

    public init(principal: PrincipalRef, user: String?) {
        self.principal = principal
        self.user = user
        var hasher = Hasher()
        hasher.combine(principal)
        hasher.combine(user)
        hashCode = hasher.finalize()
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hashCode)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.hashCode == rhs.hashCode && lhs.principal == rhs.principal && lhs.user == rhs.user
    }

    public var description: String { user.map { "\(principal) for user \($0)" } ?? "\(principal)" }
}
