/// The one error type of Sigil's modules.
///
/// Shaped like swift-certificates' `CertificateError`: an extensible ``Code`` that callers match
/// on, a human reason, and where it was raised. Two errors are equal when their codes are equal.
/// The reason names the item and the problem and never carries a secret value: every site that
/// builds one passes names, field names and positions only.
public struct SigilError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for programs. Each module adds its codes in an extension.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }
    }

    public let code: Code
    /// What went wrong, for people: names the item and the problem, never a secret.
    public let reason: String
    public let file: String
    public let line: UInt

    public init(_ code: Code, _ reason: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { reason }

    public static func == (lhs: SigilError, rhs: SigilError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
    }
}

extension SigilError.Code {
    /// A sealed blob is malformed: too short, an unknown format version.
    public static let malformedBlob = Self("malformed-blob")
    /// A sealed blob failed authentication: wrong key, tampered, truncated or moved.
    public static let blobAuthenticationFailed = Self("blob-authentication-failed")
    /// No key with the blob's key id is loaded.
    public static let unknownKey = Self("unknown-key")
    /// The master key could not be read, has the wrong size or unsafe permissions.
    public static let invalidMasterKey = Self("invalid-master-key")
    /// The master key given does not open this vault.
    public static let wrongMasterKey = Self("wrong-master-key")
    /// The caller's request cannot be used as given: a header, a merge field, a body, a form.
    public static let invalidRequest = Self("invalid-request")
}
