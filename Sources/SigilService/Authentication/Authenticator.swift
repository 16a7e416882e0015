import Hummingbird
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
    case authenticated(user: String, groups: [String] = [])
    /// Its headers were there but did not prove anything; `keys` are what the failure is counted
    /// against (the user name tried, the client address).
    case failed(keys: [String])
}
