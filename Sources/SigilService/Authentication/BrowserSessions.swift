import Crypto
import Foundation
import SigilCore

/// The browser's sessions, opened by SAML sign-on or the login form: kept in memory under the
/// SHA-256 of their cookie (a restart ends them), each with its own CSRF token and at most one
/// message for the next page.
final class BrowserSessions: Sendable {
    static let cookieName = "sigil_session"
    static let capacity = 100_000

    struct Session: Sendable {
        let user: String
        /// Groups the directory found the user in when they logged in (they count as at login).
        let groups: [String]
        /// How it was opened: `saml` or `login`.
        let authenticator: String
        /// The token every form of the session carries (compared in constant time).
        let csrf: String
        /// The SHA-256 of the cookie: what binds an OAuth `state` to this session.
        let id: Data
    }

    /// A message for the next page the session shows (after a redirect).
    struct Notice: Sendable {
        let text: String
        let isError: Bool
    }

    private let sessions = ExpiringCache<Data, Session>(capacity: capacity)
    private let notices = ExpiringCache<Data, Notice>(capacity: capacity)

    /// A new session for `user`: the cookie's value (32 random bytes, base64url).
    func open(for user: String, groups: [String] = [], authenticator: String, minutes: Int) -> String {
        let token = Self.randomToken()
        let id = Self.digest(token)
        sessions.insert(
            Session(user: user, groups: groups, authenticator: authenticator, csrf: Self.randomToken(), id: id),
            for: id,
            lifetime: .seconds(minutes * 60))
        return token
    }

    func session(_ token: String) -> Session? {
        sessions.value(for: Self.digest(token))
    }

    func close(_ token: String) {
        let id = Self.digest(token)
        _ = sessions.remove(id)
        _ = notices.remove(id)
    }

    /// Keeps `notice` for the session's next page (for ten minutes at most).
    func notify(_ session: Session, _ notice: Notice) {
        notices.insert(notice, for: session.id, lifetime: .seconds(600))
    }

    /// The notice waiting for the session's page, once.
    func takeNotice(_ session: Session) -> Notice? {
        notices.remove(session.id)
    }

    static func randomToken() -> String {
        SecretBytes.random(count: 32).withUnsafeBytes { Base64URL.encode($0) }
    }

    /// Whether two tokens are equal, compared in constant time.
    static func matches(_ presented: String, _ expected: String) -> Bool {
        let presented = Array(presented.utf8)
        let expected = Array(expected.utf8)
        guard presented.count == expected.count else { return false }
        return presented.withUnsafeBytes { a in expected.withUnsafeBytes { b in constantTimeEqual(a, b) } }
    }

    private static func digest(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }
}
