import Hummingbird
import SigilModel

/// The session cookie a SAML sign-on set (`sigil_session`): the fourth link of the chain, for the
/// browser pages.
struct SAMLSessionAuthenticator: Authenticator {
    let name = "saml"
    let signOn: SAMLSignOn

    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
    {
        guard settings.saml != nil, let token = request.cookies[SAMLSignOn.cookieName]?.value, !token.isEmpty else {
            return .notApplicable
        }
        guard let user = signOn.user(ofSession: token) else {
            return .failed(keys: [])
        }
        return .authenticated(user: user)
    }
}
