import Hummingbird
import SigilCore
import SigilModel

/// One link of the inbound authenticator chain (`../shared/seeds/000_*`): it enters only when its
/// headers are present and it is enabled.
protocol Authenticator: Sendable {
    /// How audit records and metrics name it: `basic`, `api-key`.
    var name: String { get }
    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
}

/// What one authenticator made of a request.
enum AuthenticationOutcome: Sendable {
    /// Its headers are absent, or it is disabled: the next one runs.
    case notApplicable
    /// The request proves to be from this Sigil user; `groups` are Sigil groups the authenticator
    /// found them in (a directory's), which count for roles beside the catalog's.
    /// `via` names how, when the authenticator passes on another's proof (a browser session
    /// opened by SAML sign-on or the login form); by default, the authenticator's own name.
    case authenticated(user: String, groups: [String] = [], via: String? = nil)
    /// Its headers were there but did not prove anything; `keys` are what the failure is counted
    /// against (the user name tried, the client address).
    case failed(keys: [String])
}

/// An authenticator of a user name and password: HTTP Basic on any request, and the pages' login
/// form, checked the same way.
protocol PasswordAuthenticator: Authenticator {
    /// Checks `password` for `user`; `.notApplicable` when this authenticator is disabled.
    func verify(user: String, password: SecretBytes, context: ServiceContext, settings: ServiceSettings)
        async throws -> AuthenticationOutcome
}

extension PasswordAuthenticator {
    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
    {
        guard let header = request.headers[.authorization], let (user, password) = InboundCredentials.basic(header)
        else { return .notApplicable }
        return try await verify(user: user, password: password, context: context, settings: settings)
    }
}
