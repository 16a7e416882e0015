public import SigilCore
public import SigilModel

/// A request as the caller has it, before Sigil adds credentials.
public struct OutboundRequest: Sendable {
    /// The body, or only its SHA-256 when it is streamed and not held in memory.
    public enum Body: Sendable, Hashable {
        case none
        case bytes([UInt8])
        /// Lowercase hex SHA-256 of a body sent separately.
        case sha256(String)
        /// A body sent separately whose SHA-256 is not known (read once from standard input, say):
        /// SigV4 signs it as `UNSIGNED-PAYLOAD` when its credential says `payloadSigning: unsigned`,
        /// and refuses it otherwise. Merge fields are not filled in.
        case streamed
    }

    public var method: String
    /// `callout:NAME/path?query`, or an absolute URL under exactly one named credential's base URL.
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Body

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: Body = .none)
    {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The request with its credentials: what is sent. It holds secrets (the `Authorization` value,
/// headers from merge fields), so its textual forms are redacted; read the fields to send it.
public struct DecoratedRequest: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Which named credential and principal decorated it.
    public var namedCredential: String
    public var principal: PrincipalRef
    /// The TLS client identity to present, when the named credential has one.
    public var clientIdentity: ClientIdentity?
    /// How the named credential trusts its server (CA bundle); `nil`: the system's roots.
    public var trust: NamedCredential.Trust?
    /// The issued credential (OAuth 2.0 token, STS credentials) it carries, if any: what
    /// ``SigningEngine/rejected(_:status:body:)`` replaces when the resource refuses it.
    public var issued: IssuedCredential?
    let issuedKey: IssuedCredentialKey?
    /// The route and principal it was decorated through: a retry or a redirect inside the endpoint
    /// is decorated again from them, without reading the catalog again.
    let prepared: PreparedRoute?

    public var description: String {
        "DecoratedRequest(\(method) \(namedCredential), \(headers.count) headers, <redacted>)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A certificate chain and its private key, for mTLS.
public struct ClientIdentity: Sendable {
    /// The chain, leaf first.
    public var certificateChainPEM: String
    /// PEM as configured, or DER when it was unpacked from a PKCS#12 bundle.
    public var privateKeyPEM: SecretBytes
}
