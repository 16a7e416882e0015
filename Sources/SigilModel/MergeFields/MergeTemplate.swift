/// A header value or body with merge fields, parsed once.
///
/// Grammar (also in README.md, "Merge fields"):
///
/// ```
/// template   = { text | "{!" expression "}" }        ; text: anything but "{!"
/// expression = term { "&" term }                       ; & concatenates
/// term       = string | reference | call
/// string     = "'" { any character but "'" } "'"
/// reference  = "$Credential." name [ "." name ]
///              ; $Credential.UserName, .Password, .OAuthToken, .AuthorizationHeaderValue,
///              ; or $Credential.<ExternalCredential>.<parameter or secret>
/// call       = function "(" expression { "," expression } ")"
/// function   = "BASE64ENCODE" | "URLENCODE" | "HEX" | "HASH" | "HMAC"
///              ; HASH(algorithm, value), HMAC(algorithm, value, key); algorithm: 'SHA1', 'SHA256',
///              ; 'SHA384' or 'SHA512'; HASH and HMAC give raw bytes, so wrap them in HEX or BASE64ENCODE
/// ```
///
/// Spaces are allowed between tokens of an expression. Nothing else is evaluated: an unknown
/// name is an error at its position.
public struct MergeTemplate: Sendable, Hashable {
    package indirect enum Expression: Sendable, Hashable {
        case string([UInt8])
        case reference(MergeReference, position: Int)
        case call(MergeFunction, [Expression], position: Int)
        case concatenation([Expression])
    }

    package enum Part: Sendable, Hashable {
        case text([UInt8])
        case expression(Expression)
    }

    public let source: String
    package let parts: [Part]

    /// Parses `source`. Errors give the 1-based character position and the problem.
    public init(parsing source: String) throws(MergeFieldError) {
        self.source = source
        var parser = MergeFieldParser(Array(source.unicodeScalars))
        self.parts = try parser.parseTemplate()
    }

    /// Whether the template has any merge field (otherwise it is plain text).
    public var hasMergeFields: Bool {
        parts.contains { if case .expression = $0 { true } else { false } }
    }

    /// Every reference the template makes, in order.
    public var references: [MergeReference] {
        var found: [MergeReference] = []
        func walk(_ expression: Expression) {
            switch expression {
            case .string: break
            case .reference(let reference, _): found.append(reference)
            case .call(_, let arguments, _): arguments.forEach(walk)
            case .concatenation(let terms): terms.forEach(walk)
            }
        }
        for case .expression(let expression) in parts { walk(expression) }
        return found
    }
}

/// What a merge field names.
public enum MergeReference: Sendable, Hashable, CustomStringConvertible {
    /// `$Credential.UserName`: the principal's `username` parameter or secret.
    case userName
    /// `$Credential.Password`: the principal's `password` secret.
    case password
    /// `$Credential.OAuthToken`: the current OAuth 2.0 access token.
    case oauthToken
    /// `$Credential.AuthorizationHeaderValue`: the `Authorization` value the protocol generated.
    case authorizationHeaderValue
    /// `$Credential.<ExternalCredential>.<name>`: a secret or parameter of the chosen principal, or
    /// a parameter of the external credential.
    case field(externalCredential: String, name: String)

    public var description: String {
        switch self {
        case .userName: "$Credential.UserName"
        case .password: "$Credential.Password"
        case .oauthToken: "$Credential.OAuthToken"
        case .authorizationHeaderValue: "$Credential.AuthorizationHeaderValue"
        case .field(let credential, let name): "$Credential.\(credential).\(name)"
        }
    }
}

/// A template that does not parse, or a function given the wrong arguments.
public struct MergeFieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based position, in characters, in the template.
    public let position: Int
    public let problem: String

    public init(position: Int, _ problem: String) {
        self.position = position
        self.problem = problem
    }

    public var description: String { "at position \(position): \(problem)" }
}
