import Hummingbird
import Logging
import SigilCore
import SigilModel
import SigilStore

/// Runs the authenticators in their fixed order and sets ``ServiceContext/caller``: the first that
/// authenticates the request wins; one whose headers are absent, that is disabled or that fails
/// hands over to the next; after the last, the caller is anonymous (each route's ``Access`` then
/// decides). Failures are counted and slow down further attempts (``FailureThrottle``), and the
/// answer never says which part was wrong.
struct AuthenticatorChain: RouterMiddleware {
    typealias Context = ServiceContext

    let authenticators: [any Authenticator]
    let vault: Vault
    let throttle: FailureThrottle
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response)
        async throws -> Response
    {
        var context = context
        let catalog: Catalog
        do {
            catalog = try vault.catalog()
        } catch {
            // Nobody can be authenticated against a catalog that cannot be read (or was changed
            // without the vault's key); the public routes still answer, the others say why.
            context.catalogError = error
            return try await next(request, context)
        }
        let settings = catalog.service ?? ServiceSettings()
        context.caller = try await identify(context: context, catalog: catalog, settings: settings) {
            try await $0.authenticate(request, context: context, settings: settings)
        }
        if let caller = context.caller {
            context.logger[metadataKey: "caller"] = "\(caller.user.name.sanitizedForMessage)"
        }
        if context.caller == nil { metrics.authentication("anonymous", outcome: "success") }
        return try await next(request, context)
    }

    /// The pages' login form: `user` and `password` checked by the password authenticators
    /// (directory, then Sigil's own), with the same failure counting and delays as HTTP Basic.
    /// Throws ``ServiceError/unauthenticated()`` when they do not prove the user.
    func logIn(user: String, password: SecretBytes, context: ServiceContext) async throws -> Caller {
        let catalog = try vault.catalog()
        let settings = catalog.service ?? ServiceSettings()
        let caller = try await identify(context: context, catalog: catalog, settings: settings) { authenticator in
            guard let authenticator = authenticator as? any PasswordAuthenticator else { return .notApplicable }
            return try await authenticator.verify(user: user, password: password, context: context, settings: settings)
        }
        guard let caller else { throw ServiceError.unauthenticated() }
        return caller
    }

    /// Runs `outcome` for each authenticator in order: the first that authenticates wins (when the
    /// catalog still has the user); failures are counted, and when nothing succeeded after one,
    /// the answer waits and is ``ServiceError/unauthenticated()``. `nil`: anonymous.
    private func identify(
        context: ServiceContext, catalog: Catalog, settings: ServiceSettings,
        outcome: (any Authenticator) async throws -> AuthenticationOutcome
    ) async throws -> Caller? {
        var failedKeys: [String] = []
        for authenticator in authenticators {
            switch try await outcome(authenticator) {
            case .notApplicable:
                continue
            case .failed(let keys):
                metrics.authentication(authenticator.name, outcome: "failure")
                failedKeys += keys
            case .authenticated(let user, let groups, let via):
                // A user who has been deleted since their key or password was checked is no one.
                guard
                    let caller = Caller(
                        user: user, authenticator: via ?? authenticator.name, catalog: catalog,
                        directoryGroups: groups)
                else {
                    metrics.authentication(authenticator.name, outcome: "failure")
                    failedKeys.append("user:\(user)")
                    continue
                }
                metrics.authentication(authenticator.name, outcome: "success")
                throttle.succeeded("user:\(user)")
                return caller
            }
        }
        if !failedKeys.isEmpty {
            // Counted against the names tried and the address; the answer waits, whatever route.
            let delay = throttle.failed(
                failedKeys + ["address:\(context.remoteAddress)"], settings: settings.failures)
            try await Task.sleep(for: delay)
            throw ServiceError.unauthenticated()
        }
        return nil
    }
}
