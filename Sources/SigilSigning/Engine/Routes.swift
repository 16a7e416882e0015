import SigilCore
import SigilModel
import Synchronization

/// What the engine works out once per catalog snapshot for every named credential, rather than on
/// every request: its parsed endpoint, its external credential, its custom headers parsed, the
/// principal a request without an acting user takes, and (when the snapshot holds the users'
/// authorizations) the principal each acting user takes. A failure (an invalid URL, a missing
/// external credential) is kept as the error the request that needs it will throw.
final class Routes: Sendable {
    /// One named credential's route.
    final class Route: Sendable {
        /// A custom header a request gets, its template parsed (or why it does not parse).
        struct Header: Sendable {
            /// `external credential NAME` or `named credential NAME`, for messages.
            let owner: String
            let name: String
            let text: String
            let template: Result<MergeTemplate, SigilError>
        }

        let namedCredential: NamedCredential
        let name: String
        let generateAuthorizationHeader: Bool
        /// The external credential's custom headers, then the named credential's.
        let headers: [Header]
        /// The base URL parsed, or why it is invalid.
        let endpoint: Result<EndpointURL, SigilError>
        /// The base URL as requests are sent to it (normalized), or why it is invalid.
        let base: Result<String, SigilError>
        let externalCredential: Result<ExternalCredential, SigilError>
        /// The principal of a request made without an acting user (the vault's operator).
        let operatorPrincipal: Result<PrincipalBinding, any Error>
        /// The principals chosen for acting users. Kept only when the snapshot holds the users'
        /// live authorizations, since the choice then depends on the snapshot alone; past
        /// ``userLimit`` users it starts over.
        private let userPrincipals = Mutex<[String: PrincipalBinding]>([:])
        static let userLimit = 4096

        init(_ named: NamedCredential, catalog: Catalog, source: any CredentialSource) {
            namedCredential = named
            name = named.name
            generateAuthorizationHeader = named.generateAuthorizationHeader
            endpoint = Result { () throws(SigilError) in
                do throws(EndpointURLError) {
                    return try EndpointURL(parsing: named.url)
                } catch {
                    throw SigilError(
                        .calloutRefused, "named credential \(named.name) has an invalid URL: \(error.problem)")
                }
            }
            base = endpoint.map(\.description)
            let external = Result { () throws(SigilError) in
                guard let external = catalog.externalCredential(named: named.externalCredential) else {
                    throw SigilError(
                        .invalidConfiguration,
                        "named credential \(named.name) uses external credential \(named.externalCredential), which does not exist"
                    )
                }
                return external
            }
            externalCredential = external
            let owned =
                ((try? external.get())?.customHeaders ?? []).map {
                    ("external credential \(named.externalCredential)", $0)
                }
                + named.customHeaders.map { ("named credential \(named.name)", $0) }
            headers = owned.map { owner, header in
                Header(
                    owner: owner, name: header.name, text: header.value,
                    template: Result { () throws(SigilError) in
                        do throws(MergeFieldError) {
                            return try MergeTemplate(parsing: header.value)
                        } catch {
                            throw SigilError(.invalidRequest, "\(owner), header \(header.name): merge field \(error)")
                        }
                    })
            }
            operatorPrincipal = Result {
                let external = try external.get()
                let principal = try PrincipalChooser.choose(
                    in: external, user: nil, catalog: catalog, authorizedUsers: { _ in [] })
                return PrincipalBinding(external: external, principal: principal, user: nil, source: source)
            }
        }

        /// The client identity's private key as last read (mTLS), kept as a principal's secrets are.
        let clientKey = KeptSecrets<SecretBytes?>()

        /// Every binding this route keeps (the operator's, the users').
        var bindings: [PrincipalBinding] {
            ((try? operatorPrincipal.get()).map { [$0] } ?? []) + userPrincipals.withLock { Array($0.values) }
        }

        /// The principal `user`'s requests take (see ``PrincipalChooser``).
        func principal(for user: String, in snapshot: CatalogSnapshot, source: any CredentialSource) throws
            -> PrincipalBinding
        {
            if let kept = userPrincipals.withLock({ $0[user] }) { return kept }
            let external = try externalCredential.get()
            let authorized = snapshot.authorizedUsers
            let principal = try PrincipalChooser.choose(in: external, user: user, catalog: snapshot.catalog) {
                reference in
                // Read with the catalog when the source did (the vault does), else asked now.
                if let authorized { return authorized[reference] ?? [] }
                return try source.authorizedUsers(of: reference)
            }
            let binding = PrincipalBinding(external: external, principal: principal, user: user, source: source)
            if authorized != nil {
                userPrincipals.withLock { kept in
                    if kept.count >= Self.userLimit { kept.removeAll() }
                    kept[user] = binding
                }
            }
            return binding
        }
    }

    let snapshot: CatalogSnapshot
    let source: any CredentialSource
    /// The routes worked out so far, by named credential: each on its first request, so that a
    /// catalog of thousands of named credentials costs only the routes that are used.
    private let built = Mutex<[String: Route]>([:])
    /// Valid base URLs, lowercased, longest first, with their named credentials: where absolute URLs
    /// are matched (worked out on the first absolute URL).
    private let bases = Mutex<[(base: String, name: String)]?>(nil)

    /// Drops every secret the routes and their bindings keep.
    func dropKeptSecrets() {
        for route in built.withLock({ Array($0.values) }) {
            route.clientKey.drop()
            for binding in route.bindings { binding.dropKept() }
        }
    }

    init(_ snapshot: CatalogSnapshot, source: any CredentialSource) {
        self.snapshot = snapshot
        self.source = source
    }

    /// The route of named credential `name`, or `nil` when the catalog has none.
    func route(named name: String) -> Route? {
        if let kept = built.withLock({ $0[name] }) { return kept }
        guard let named = snapshot.catalog.namedCredential(named: name) else { return nil }
        let route = Route(named, catalog: snapshot.catalog, source: source)
        return built.withLock { built in
            if let first = built[name] { return first }
            built[name] = route
            return route
        }
    }

    /// Every valid base URL (lowercased, longest first) with its named credential.
    var byBase: [(base: String, name: String)] {
        if let kept = bases.withLock({ $0 }) { return kept }
        let computed = snapshot.catalog.namedCredentials.compactMap { named -> (String, String)? in
            guard let endpoint = try? EndpointURL(parsing: named.url) else { return nil }
            return (endpoint.description.lowercased(), named.name)
        }.sorted { $0.0.utf8.count > $1.0.utf8.count }
        bases.withLock { $0 = computed }
        return computed
    }
}

/// What a decorated request was prepared from: the routes of one catalog, its route and principal.
final class PreparedRoute: Sendable {
    let routes: Routes
    let snapshot: CatalogSnapshot
    let secretsVersion: [UInt8]?
    let route: Routes.Route
    let binding: PrincipalBinding
    let user: String?

    init(
        routes: Routes, snapshot: CatalogSnapshot, secretsVersion: [UInt8]?, route: Routes.Route,
        binding: PrincipalBinding, user: String?
    ) {
        self.routes = routes
        self.snapshot = snapshot
        self.secretsVersion = secretsVersion
        self.route = route
        self.binding = binding
        self.user = user
    }
}

/// The routes of the snapshot last seen, replaced when the source hands out another snapshot.
/// A new secrets version keeps the routes, and drops the secrets their bindings kept.
final class RouteCache: Sendable {
    private struct Current {
        var routes: Routes
        var secretsVersion: [UInt8]?
    }

    private let current = Mutex<Current?>(nil)

    func routes(for snapshot: CatalogSnapshot, secretsVersion: [UInt8]?, source: any CredentialSource) -> Routes {
        if let kept = current.withLock({ $0 }), kept.routes.snapshot === snapshot {
            if kept.secretsVersion != secretsVersion {
                kept.routes.dropKeptSecrets()
                current.withLock { $0?.secretsVersion = secretsVersion }
            }
            return kept.routes
        }
        let routes = Routes(snapshot, source: source)
        current.withLock { $0 = Current(routes: routes, secretsVersion: secretsVersion) }
        return routes
    }

    /// Drops every secret the bindings keep (a service calls this on a timer, so that an idle
    /// process holds none past their lifetime).
    func dropPreparedSecrets() {
        current.withLock { $0?.routes }?.dropKeptSecrets()
    }
}
