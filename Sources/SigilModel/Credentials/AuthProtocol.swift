/// How an external credential authenticates. mTLS is not a protocol here: it is a client
/// identity that any named credential may add.
public enum AuthProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case oauth2
    case jwt
    case awsSigV4 = "aws-sigv4"
    case basic
    case custom
    case none

    public var description: String { rawValue }

    public static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
