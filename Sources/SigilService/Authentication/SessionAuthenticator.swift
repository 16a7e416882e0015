import HTTPTypes
import Hummingbird
import SigilModel

/// The browser's session cookie (`sigil_session`), set by SAML sign-on or the login form: the
/// last link of the chain, for the pages (and the API from the same page). The pages' forms also
/// carry the session's CSRF token, which they check themselves.
struct SessionAuthenticator: Authenticator {
    static let name = "session"
    var name: String { Self.name }
    let sessions: BrowserSessions

    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
    {
        guard let token = request.cookies[BrowserSessions.cookieName]?.value, !token.isEmpty else {
            return .notApplicable
        }
        // A browser says where a request comes from (Fetch Metadata): with the cookie, another site
        // (or another port of this host) may only link here, not post or fetch.
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" || site == "same-site",
            request.method != .get || request.headers[HTTPField.Name("Sec-Fetch-Mode")!] != "navigate"
        {
            return .notApplicable
        }
        guard let session = sessions.session(token) else {
            // An ended or unknown session is no one: the pages send the browser to the login form
            // (not counted as a failed guess: a cookie of 32 random bytes cannot be guessed).
            return .notApplicable
        }
        return .authenticated(user: session.user, groups: session.groups, via: session.authenticator)
    }
}
