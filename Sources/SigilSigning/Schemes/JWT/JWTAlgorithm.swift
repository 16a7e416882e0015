/// JWS algorithms Sigil signs with (RFC 7518 section 3; EdDSA from RFC 8037).
public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    /// RFC 7518 section 3.2: an HMAC key at least as long as the hash output.
    var minimumHMACKeyBytes: Int? {
        switch self {
        case .hs256: 32
        case .hs384: 48
        case .hs512: 64
        default: nil
        }
    }

    static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
