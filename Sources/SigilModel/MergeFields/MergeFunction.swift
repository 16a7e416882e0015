/// The functions merge fields may call. Each takes and returns bytes (evaluated by the engine).
public enum MergeFunction: String, Sendable, Hashable, CaseIterable {
    /// Standard base64 (RFC 4648 section 4) with padding.
    case base64Encode = "BASE64ENCODE"
    /// Percent-encoding of everything but RFC 3986 unreserved characters.
    case urlEncode = "URLENCODE"
    /// Lowercase hexadecimal.
    case hex = "HEX"
    /// `HASH(algorithm, value)`: the raw digest.
    case hash = "HASH"
    /// `HMAC(algorithm, value, key)`: the raw MAC.
    case hmac = "HMAC"

    package var arity: Int {
        switch self {
        case .base64Encode, .urlEncode, .hex: 1
        case .hash: 2
        case .hmac: 3
        }
    }

    /// Which argument names the algorithm (checked when parsing).
    package var algorithmArgument: Int? {
        switch self {
        case .hash, .hmac: 0
        default: nil
        }
    }
}

/// The digests `HASH` and `HMAC` offer.
package enum HashAlgorithm: String, Sendable {
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha384 = "SHA384"
    case sha512 = "SHA512"
}
