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
        var failedKeys: [String] = []
        for authenticator in authenticators {
            let outcome = try await authenticator.authenticate(request, context: context, settings: settings)
            switch outcome {
            case .notApplicable:
                continue
            case .failed(let keys):
                metrics.authentication(authenticator.name, outcome: "failure")
                failedKeys += keys
                continue
            case .authenticated(let user, let groups):
                // A user who has been deleted since their key or password was checked is no one.
                guard
                    let caller = Caller(
                        user: user, authenticator: authenticator.name, catalog: catalog, directoryGroups: groups)
                else {
                    metrics.authentication(authenticator.name, outcome: "failure")
                    failedKeys.append("user:\(user)")
                    continue
                }
                metrics.authentication(authenticator.name, outcome: "success")
                await throttle.succeeded("user:\(user)")
                context.caller = caller
                context.logger[metadataKey: "caller"] = "\(user.sanitizedForMessage)"
            }
            break
        }
        if context.caller == nil && !failedKeys.isEmpty {
            // Counted against the names tried and the address; the answer waits, whatever route.
            let delay = await throttle.failed(
                failedKeys + ["address:\(context.remoteAddress)"], settings: settings.failures)
            try await Task.sleep(for: delay)
            throw ServiceError.unauthenticated()
        }
        if context.caller == nil { metrics.authentication("anonymous", outcome: "success") }
        return try await next(request, context)
    }
}
