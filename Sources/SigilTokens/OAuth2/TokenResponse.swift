import Foundation
import SigilCore
import SigilModel

/// A token endpoint's answer (RFC 6749 section 5), parsed strictly: a JSON object whose
/// `access_token` is a non-empty run of visible ASCII (so it can never split a header), whose
/// `token_type` is `Bearer`, and whose `expires_in`, when present, is a positive whole number (a
/// JSON number or, as some providers send it, a string of digits). Members Sigil does not know are
/// ignored, as the RFC asks; Salesforce's `instance_url`, `id` and `issued_at` are kept.
struct TokenResponse {
    var accessToken: SecretBytes
    var refreshToken: SecretBytes?
    var expiresIn: Int64?
    /// `refresh_token_expires_in`: not in RFC 6749, sent by providers whose refresh tokens expire.
    var refreshExpiresIn: Int64?
    var scope: String?
    /// Salesforce's extra members, kept as given.
    var instanceURL: String?
    var identityURL: String?
    var issuedAt: String?

    /// The issued credential's fields: `accessToken`, and when present `refreshToken`, `scope`,
    /// `instanceUrl`, `identityUrl`, `issuedAt`.
    func credential(obtainedAt now: Int64, keepingRefreshToken previous: SecretBytes?) -> IssuedCredential {
        var fields = ["accessToken": accessToken]
        if let refresh = refreshToken ?? previous { fields["refreshToken"] = refresh }
        for (name, value) in [
            ("scope", scope), ("instanceUrl", instanceURL), ("identityUrl", identityURL), ("issuedAt", issuedAt),
        ] {
            if let value { fields[name] = SecretBytes(utf8: value, lockingMemory: false) }
        }
        return IssuedCredential(
            kind: .oauth2, fields: fields, obtainedAt: now, expiresAt: expiresIn.map { now + $0 },
            refreshExpiresAt: refreshToken == nil ? nil : refreshExpiresIn.map { now + $0 })
    }

    /// An OAuth 2.0 error answer (RFC 6749 section 5.2).
    struct ErrorAnswer: Error {
        var code: String
        var description: String?

        var message: String {
            description.map { "\(code) (\(ProviderText.redactingTokens($0).sanitizedForMessage.prefix(300)))" } ?? code
        }
    }

    /// The members Sigil reads, as sent. `expires_in` and `issued_at` take a number or a string.
    private struct Wire: Decodable {
        var access_token: String?
        var token_type: String?
        var expires_in: NumberOrString?
        var refresh_token: String?
        var refresh_token_expires_in: NumberOrString?
        var scope: String?
        var instance_url: String?
        var id: String?
        var issued_at: NumberOrString?
    }

    private enum NumberOrString: Decodable {
        case integer(Int64)
        case text(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int64.self) {
                self = .integer(value)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        var text: String {
            switch self {
            case .integer(let value): "\(value)"
            case .text(let value): value
            }
        }
    }

    /// The longest lifetime taken from `expires_in`: ten years.
    static let maximumLifetime: Int64 = 10 * 366 * 86_400

    /// Parses a successful answer; `purpose` names the call in errors, which never quote a token.
    init(parsing body: [UInt8], purpose: String) throws {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(body))
        } catch {
            throw SigilError(
                .providerFailed,
                "\(purpose): the token response is not a JSON object with string members access_token, token_type and a numeric expires_in"
            )
        }
        guard let access = wire.access_token, Self.isToken(access) else {
            throw SigilError(
                .providerFailed, "\(purpose): the token response has no access_token of visible ASCII characters")
        }
        guard let type = wire.token_type else {
            throw SigilError(.providerFailed, "\(purpose): the token response has no token_type")
        }
        guard type.lowercased() == "bearer" else {
            throw SigilError(
                .providerFailed,
                "\(purpose): token_type \(type.sanitizedForMessage.prefix(40)) is not supported (only Bearer)")
        }
        accessToken = SecretBytes(utf8: access)
        if let refresh = wire.refresh_token {
            guard Self.isToken(refresh) else {
                throw SigilError(
                    .providerFailed, "\(purpose): refresh_token is not a string of visible ASCII characters")
            }
            refreshToken = SecretBytes(utf8: refresh)
        }
        if let expires = wire.expires_in {
            guard let seconds = Int64(expires.text), seconds > 0 else {
                throw SigilError(.providerFailed, "\(purpose): expires_in must be a positive whole number of seconds")
            }
            // A lifetime past any real token's (up to Int64.max) would overflow the expiry time.
            expiresIn = min(seconds, Self.maximumLifetime)
        }
        // Advisory (the calendar's date): a malformed one is ignored rather than refusing the token.
        if let text = wire.refresh_token_expires_in?.text, let seconds = Int64(text), seconds > 0 {
            refreshExpiresIn = min(seconds, Self.maximumLifetime)
        }
        scope = wire.scope
        instanceURL = wire.instance_url
        identityURL = wire.id
        issuedAt = wire.issued_at?.text
    }

    /// The error of a refused token request, when the body is an RFC 6749 error object.
    static func error(in body: [UInt8]) -> ErrorAnswer? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let code = object["error"] as? String, !code.isEmpty,
            code.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E && $0 != 0x22 && $0 != 0x5C })
        else { return nil }
        return ErrorAnswer(code: code, description: object["error_description"] as? String)
    }

    /// RFC 6750's b64token, loosened to any visible ASCII: no spaces, no control characters.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
