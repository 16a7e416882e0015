public import Foundation
import SigilCore
public import SigilModel

/// Turns a request and the acting user into the decorated request: resolves the callout, picks the
/// principal, generates the `Authorization` header, adds the custom headers with their merge fields,
/// and attaches the TLS client identity. Pure: it reads the vault and never opens a socket.
///
/// The CLI (`sigil sign`) and, later, the HTTP service call this engine; they never repeat a step.
public struct SigningEngine: Sendable {
    let source: any CredentialSource
    /// Obtains issued credentials (STS, OAuth 2.0 tokens); `nil`: principals that need one fail.
    let issuer: (any CredentialIssuer)?
    /// Each named credential's endpoint, external credential and operator principal, worked out
    /// once per catalog snapshot.
    let routes = RouteCache()
    /// What schemes keep across requests (parsed signing keys, found by digests of their material).
    let caches = SchemeCaches()

    /// How long a principal's secrets, once read and unsealed, are kept for its later requests
    /// (see SECURITY.md, "Secrets in memory"); zero keeps none.
    public let preparedSecretLifetime: Duration
    /// The longest ``preparedSecretLifetime`` an engine accepts.
    public static let maximumPreparedSecretLifetime: Duration = .seconds(3600)

    /// An engine over `source`; `issuer` obtains issued credentials (OAuth 2.0 tokens, STS).
    /// `preparedSecretLifetime` (zero to one hour; default one minute) bounds how long unsealed
    /// secrets are kept between requests; a change of any secret or of the catalog drops them.
    public init(
        source: any CredentialSource, issuer: (any CredentialIssuer)? = nil,
        preparedSecretLifetime: Duration = .seconds(60)
    ) {
        self.source = source
        self.issuer = issuer
        self.preparedSecretLifetime = min(max(preparedSecretLifetime, .zero), Self.maximumPreparedSecretLifetime)
    }

    /// Drops every unsealed secret the engine keeps between requests, now.
    public func dropPreparedSecrets() {
        routes.dropPreparedSecrets()
    }

    /// Decorates `request` for `user` (`nil`: the vault's operator, who may use any named
    /// principal) as of `date` (signatures and token lifetimes use it).
    ///
    /// With a `trace`, records each step for `sigil sign --explain`.
    ///
    /// Runs on the caller's executor (`nonisolated(nonsending)`): no thread hop per request.
    nonisolated(nonsending) public func decorate(
        _ request: OutboundRequest, as user: String? = nil, at date: Date = Date(), trace: SigningTrace? = nil
    ) async throws -> DecoratedRequest {
        try await decorate(request, as: user, at: date, trace: trace, reusing: nil)
    }

    /// Decorates `request` again through the route and principal `previous` was decorated through
    /// (a retry, or a redirect inside the same endpoint), without reading the catalog again: the
    /// executor carries its request this way.
    nonisolated(nonsending) public func decorate(
        _ request: OutboundRequest, as user: String? = nil, at date: Date = Date(), reusing previous: DecoratedRequest
    ) async throws -> DecoratedRequest {
        try await decorate(request, as: user, at: date, trace: nil, reusing: previous.prepared)
    }

    nonisolated(nonsending) private func decorate(
        _ request: OutboundRequest, as user: String?, at date: Date, trace: SigningTrace?,
        reusing prepared: PreparedRoute?
    ) async throws -> DecoratedRequest {
        // A change of the catalog between preparing the request and reading its secrets (another
        // process's `apply`, say) makes the source refuse the mix: prepare again, from the catalog.
        var attempt = 1
        var prepared = prepared
        while true {
            do {
                return try await decorateOnce(request, as: user, at: date, trace: trace, reusing: prepared)
            } catch let error as SigilError where error.code == .catalogChanged && attempt < Self.preparationAttempts {
                prepared = nil
                // A little later each time, so that a burst of changes can pass.
                try await Task.sleep(for: .milliseconds(attempt))
                attempt += 1
            }
        }
    }

    /// How many times a request is prepared again when the catalog keeps changing under it.
    static let preparationAttempts = 8

    nonisolated(nonsending) private func decorateOnce(
        _ request: OutboundRequest, as user: String?, at date: Date, trace: SigningTrace?,
        reusing prepared: PreparedRoute?
    ) async throws -> DecoratedRequest {
        let (resolution, context, routes) = try prepare(request, as: user, trace: trace, reusing: prepared)
        if try !takeHeldIssued(context) { try await obtainIssued(context) }
        // Read through the route and the binding (shared, immutable) rather than copied out.
        let route = resolution.route
        let scheme = try context.binding.scheme.get()
        trace?.step(
            "protocol",
            "\(context.external.authProtocol) of external credential \(context.external.name); Authorization \(route.generateAuthorizationHeader ? "generated" : "not generated (generateAuthorizationHeader is off)")"
        )

        // The caller's headers, shared until something is added (SigV4 adds its own when signing).
        var headers = request.headers
        var authorization: String?
        if route.generateAuthorizationHeader, let value = try scheme.authorization(context, at: date, caches: caches) {
            headers.reserveCapacity(headers.count + 1 + route.headers.count)
            authorization = value
            try Self.set(&headers, name: "Authorization", value: value, credential: route.name)
            trace?.step("header Authorization", [.secret(SecretBytes(utf8: value, lockingMemory: false))])
        }
        let resolver = MergeResolver(context: context, authorization: authorization)
        for header in route.headers {
            let template = try header.template.get()
            if template.hasMergeFields && !route.namedCredential.allowMergeFieldsInHeader {
                throw SigilError(
                    .invalidRequest,
                    "\(header.owner), header \(header.name) has merge fields, but named credential \(route.name) does not allow them in headers (allowMergeFieldsInHeader)"
                )
            }
            let rendered: SecretBytes
            do {
                rendered = try template.render(resolver.resolve)
            } catch let error as MergeFieldError {
                throw SigilError(.invalidRequest, "\(header.owner), header \(header.name): merge field \(error)")
            }
            try Self.set(&headers, name: header.name, value: rendered, credential: route.name)
            if template.hasMergeFields {
                trace?.secretHeader(header.name)
                trace?.step(
                    "header \(header.name) (\(header.owner))", [.text("\(header.text) -> "), .secret(rendered)])
            } else {
                trace?.step("header \(header.name) (\(header.owner))", header.text)
            }
        }

        var body: [UInt8]?
        switch request.body {
        case .none, .sha256, .streamed: body = nil
        case .bytes(let bytes): body = bytes
        }
        if route.namedCredential.allowMergeFieldsInBody, let bytes = body,
            let text = String(validating: bytes, as: UTF8.self)
        {
            do {
                body = try MergeTemplate(parsing: text).render(resolver.resolve).withUnsafeBytes { Array($0) }
                trace?.step("body", "merge fields filled in (\(body?.count ?? 0) bytes)")
            } catch let error as MergeFieldError {
                throw SigilError(
                    .invalidRequest, "the body of a request to named credential \(route.name): merge field \(error)")
            }
        }
        // The scheme's last step (SigV4's signature), over the final headers and body.
        var signed = SignedRequest(
            method: request.method, url: resolution.url, headers: headers, body: body, declared: request.body)
        if route.generateAuthorizationHeader {
            try scheme.sign(&signed, context, at: date, trace: trace)
        }
        let identity = try MTLSIdentity.identity(of: route, context)
        return DecoratedRequest(
            method: request.method, url: signed.url, headers: signed.headers, body: body, namedCredential: route.name,
            principal: context.reference, clientIdentity: identity, trust: route.namedCredential.trust,
            issued: context.issued, issuedKey: context.issued == nil ? nil : context.key,
            prepared: PreparedRoute(
                routes: routes, snapshot: context.snapshot!, secretsVersion: context.secretsVersion, route: route,
                binding: context.binding, user: user)
        )
    }

    /// Whether decorating `request` signs the SHA-256 of its body (an `aws-sigv4` credential with
    /// `payloadSigning: signed` that generates the `Authorization` header): a caller streaming the
    /// body from a file then hashes it first and passes ``OutboundRequest/Body/sha256(_:)``.
    public func signsPayloadHash(_ request: OutboundRequest, as user: String? = nil) throws -> Bool {
        let (resolution, context, _) = try prepare(request, as: user, trace: nil)
        return try resolution.route.generateAuthorizationHeader && context.binding.scheme.get().signsPayloadHash
    }

    /// The name of the named credential whose endpoint `request` targets (its callout resolved).
    public func namedCredential(of request: OutboundRequest) throws -> String {
        let (snapshot, secretsVersion) = try source.snapshotAndSecretsVersion(
            for: CatalogScope(url: request.url, user: nil))
        return try Callout.resolve(
            request.url, in: routes.routes(for: snapshot, secretsVersion: secretsVersion, source: source)
        ).route.name
    }

    /// A presigned URL (SigV4 query signing) for `request`, valid for `expires` seconds: the request
    /// can then be sent by anyone holding the URL, without Sigil. Only for `aws-sigv4` credentials.
    ///
    /// The request's headers are signed into the URL (as botocore's presigner does), so whoever
    /// sends it must send them with the same values: a browser upload's `Content-Type`, say.
    nonisolated(nonsending) public func presign(
        _ request: OutboundRequest, as user: String? = nil, at date: Date = Date(), expires: Int
    ) async throws -> String {
        let (resolution, context, _) = try prepare(request, as: user, trace: nil)
        let scheme = try context.binding.scheme.get()
        try await obtainIssued(context)
        let body: [UInt8]? = if case .bytes(let bytes) = request.body { bytes } else { nil }
        return try scheme.presign(
            SignedRequest(
                method: request.method, url: resolution.url, headers: request.headers, body: body,
                declared: request.body), context, at: date, expires: expires
        )
    }

    /// The issued credential (an OAuth 2.0 access token, STS credentials) that `user`'s requests
    /// through external credential `name` would carry now, obtained if need be: `sigil token`.
    nonisolated(nonsending) public func issuedCredential(externalCredential name: String, as user: String? = nil)
        async throws -> (PrincipalRef, IssuedCredential)
    {
        let catalog = try source.catalog()
        guard let external = catalog.externalCredential(named: name) else {
            throw SigilError(.notFound, "external credential \(name.sanitizedForMessage) does not exist")
        }
        let principal = try PrincipalChooser.choose(
            in: external, user: user, catalog: catalog, authorizedUsers: source.authorizedUsers(of:))
        let context = CredentialContext(
            source: source,
            binding: PrincipalBinding(external: external, principal: principal, user: user, source: source), user: user)
        guard try context.binding.scheme.get().issuance != nil else {
            throw SigilError(
                .unsupported,
                "principal \(context.reference) signs with its stored secrets; no credential is issued for it")
        }
        try await obtainIssued(context)
        return (context.reference, context.issued!)
    }

    /// What an issuer needs to obtain `user`'s credential through external credential `name` for
    /// the first time (`sigil auth login`): the per-user principal granted to the user, authorized
    /// or not; without a user, the first named principal.
    public func loginRequest(externalCredential name: String, as user: String? = nil) throws -> IssuanceRequest {
        let catalog = try source.catalog()
        guard let external = catalog.externalCredential(named: name) else {
            throw SigilError(.notFound, "external credential \(name.sanitizedForMessage) does not exist")
        }
        let principal = try PrincipalChooser.chooseForLogin(in: external, user: user, catalog: catalog)
        let scheme = try SchemeRegistry.scheme(of: external, principal: principal)
        guard let kind = scheme.issuance else {
            throw SigilError(
                .unsupported,
                "external credential \(name) uses protocol \(external.authProtocol); only credentials obtained from a provider are authorized"
            )
        }
        let reference = PrincipalRef(externalCredential: name, principal: principal.name)
        return IssuanceRequest(
            kind: kind, key: IssuedCredentialKey(principal: reference, user: principal.type == .perUser ? user : nil),
            external: external, principal: principal, scheme: scheme, source: source)
    }

    /// Whether the resource's answer refuses the issued credential `decorated` carried: its status
    /// is one of the external credential's `refreshOnStatus` (default 401; a comma list such as
    /// `401,403`) and, when `refreshOnBody` is set, the body contains that text (Salesforce's
    /// `INVALID_SESSION_ID`). When it does, the issuer replaces the credential (once, however many
    /// requests report it) and this returns `true`: decorate again and retry once, never more.
    nonisolated(nonsending) public func rejected(_ decorated: DecoratedRequest, status: Int, body: [UInt8]) async throws
        -> Bool
    {
        guard let issued = decorated.issued, let key = decorated.issuedKey, let issuer else { return false }
        let request = try issuanceRequest(for: key)
        let statuses = (request.parameter("refreshOnStatus") ?? "401").split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard statuses.contains(status) else { return false }
        if let matcher = request.parameter("refreshOnBody"), !matcher.isEmpty {
            guard body.count >= matcher.utf8.count, String(decoding: body, as: UTF8.self).contains(matcher) else {
                return false
            }
        }
        _ = try await issuer.replace(rejected: issued, for: request)
        return true
    }

    /// What an issuer needs to act on the issued credential `key` (to revoke it, say).
    public func issuanceRequest(for key: IssuedCredentialKey) throws -> IssuanceRequest {
        let catalog = try source.catalog()
        guard let external = catalog.externalCredential(named: key.principal.externalCredential),
            let principal = external.principals.first(where: { $0.name == key.principal.principal })
        else {
            throw SigilError(.notFound, "principal \(key.principal) does not exist")
        }
        return try IssuanceRequest(key: key, external: external, principal: principal, source: source)
    }

    /// For a principal that signs with an issued credential (STS, OAuth 2.0), gets a current one
    /// from the issuer; its fields then take the place of the stored ones.
    nonisolated(nonsending) private func obtainIssued(_ context: CredentialContext) async throws {
        guard let issuance = context.binding.issuance, try !takeHeldIssued(context), let issuer else { return }
        record(try await issuer.credential(for: issuance), of: issuance, in: context)
    }

    /// The synchronous part of ``obtainIssued(_:)``: `true` when the principal needs no issued
    /// credential or the issuer holds a current one (most requests, which then never suspend).
    private func takeHeldIssued(_ context: CredentialContext) throws -> Bool {
        guard let issuance = context.binding.issuance else { return true }
        guard let issuer else {
            throw SigilError(
                .unsupported,
                "principal \(context.reference) signs with credentials obtained from a provider (\(issuance.kind.rawValue)), and this engine has no issuer to obtain them"
            )
        }
        guard let held = issuer.heldCredential(for: issuance) else { return false }
        record(held, of: issuance, in: context)
        return true
    }

    private func record(_ issued: IssuedCredential, of issuance: IssuanceRequest, in context: CredentialContext) {
        context.issued = issued
        if let trace = context.trace {
            let expiry =
                issued.expiresAt.map {
                    "expires at " + Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601)
                } ?? "no stated expiry"
            trace.step(
                "issued credential",
                "\(issuance.kind.rawValue) for \(context.key), obtained at \(Date(timeIntervalSince1970: TimeInterval(issued.obtainedAt)).formatted(.iso8601)), \(expiry)"
            )
        }
    }

    /// The steps every request shares: check the caller's headers, resolve the callout, choose the
    /// principal. With `prepared` (a request decorated before, for the same user), its routes and,
    /// on the same route, its principal.
    private func prepare(
        _ request: OutboundRequest, as user: String?, trace: SigningTrace?, reusing prepared: PreparedRoute? = nil
    ) throws
        -> (Callout.Resolution, CredentialContext, Routes)
    {
        try Self.checkHeaders(request.headers)
        let prepared = prepared.flatMap { $0.user == user ? $0 : nil }
        let (snapshot, secretsVersion) =
            try prepared.map { ($0.snapshot, $0.secretsVersion) }
            ?? source.snapshotAndSecretsVersion(for: CatalogScope(url: request.url, user: user))
        let routes =
            prepared?.routes ?? self.routes.routes(for: snapshot, secretsVersion: secretsVersion, source: source)
        let resolution = try Callout.resolve(request.url, in: routes)
        trace?.step(
            "callout",
            "\(request.method) \(request.url) -> named credential \(resolution.route.name) -> \(resolution.url)")
        let binding =
            if let prepared, prepared.route === resolution.route {
                prepared.binding
            } else if let user {
                try resolution.route.principal(for: user, in: routes.snapshot, source: source)
            } else {
                try resolution.route.operatorPrincipal.get()
            }
        let context = CredentialContext(
            source: source, binding: binding, user: user, snapshot: snapshot, secretsVersion: secretsVersion,
            preparedLifetime: preparedSecretLifetime, trace: trace
        )
        trace?.step(
            "principal",
            "\(context.reference) (\(binding.principal.type), sequence \(binding.principal.sequence)) "
                + (user.map { "for user \($0)" } ?? "for the vault's operator (no acting user)"))
        return (resolution, context, routes)
    }

    /// Replaces any header of the same name (case-insensitive): the credential's value wins.
    static func set(
        _ headers: inout [(name: String, value: String)], name: String, value: SecretBytes, credential: String
    ) throws {
        try set(
            &headers, name: name, value: value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) },
            credential: credential)
    }

    static func set(
        _ headers: inout [(name: String, value: String)], name: String, value text: String, credential: String
    ) throws {
        guard !HTTPFieldRules.hasControlCharacter(text) else {
            throw SigilError(
                .invalidRequest,
                "named credential \(credential), header \(name): the value has a control character (CR, LF, NUL...) after merge fields were filled in"
            )
        }
        if !headers.isEmpty {
            headers.removeAll { $0.name.utf8.count == name.utf8.count && $0.name.lowercased() == name.lowercased() }
        }
        headers.append((name, text))
    }

    /// The caller's headers (from every front door): valid field names, no control characters in
    /// values, none of the headers only the HTTP client sets (`Host`, `Content-Length`...).
    static func checkHeaders(_ headers: [(name: String, value: String)]) throws {
        for header in headers {
            guard HTTPFieldRules.isValidName(header.name) else {
                throw SigilError(
                    .invalidRequest, "header name \"\(header.name.sanitizedForMessage)\" is not a valid HTTP field name"
                )
            }
            guard !HTTPFieldRules.isReserved(header.name) else {
                throw SigilError(
                    .invalidRequest,
                    "header \(header.name) is set by the HTTP client (Host from the named credential's URL, framing from the body); a request may not set it"
                )
            }
            guard !HTTPFieldRules.hasControlCharacter(header.value) else {
                throw SigilError(
                    .invalidRequest, "header \(header.name) has a control character (CR, LF, NUL, BEL...) in its value")
            }
        }
    }
}

/// Supplies merge-field references from the chosen principal.
struct MergeResolver {
    let context: CredentialContext
    let authorization: String?

    func resolve(_ reference: MergeReference) throws -> SecretBytes {
        switch reference {
        case .userName:
            if let name = context.parameter("username") { return SecretBytes(utf8: name, lockingMemory: false) }
            return try context.requireSecret("username", for: "$Credential.UserName")
        case .password:
            try Self.checkResourceFacing("password", reference, context)
            return try context.requireSecret("password", for: "$Credential.Password")
        case .oauthToken:
            guard context.binding.issuance?.kind == .oauth2 else {
                throw SigilError(
                    .invalidRequest,
                    "$Credential.OAuthToken: external credential \(context.external.name) has no OAuth 2.0 token (protocol \(context.external.authProtocol))"
                )
            }
            return try context.requireSecret("accessToken", for: "$Credential.OAuthToken")
        case .authorizationHeaderValue:
            guard let authorization else {
                throw SigilError(
                    .invalidRequest,
                    "$Credential.AuthorizationHeaderValue: no Authorization header was generated for external credential \(context.external.name)"
                )
            }
            return SecretBytes(utf8: authorization, lockingMemory: false)
        case .field(let credential, let name):
            guard credential == context.external.name else {
                throw SigilError(
                    .invalidRequest,
                    "\(reference) names external credential \(credential), but this request uses \(context.external.name): a credential is sent only to its own endpoint"
                )
            }
            if let secret = try context.secret(name) {
                try Self.checkResourceFacing(name, reference, context)
                return secret
            }
            if let value = context.parameter(name) { return SecretBytes(utf8: value, lockingMemory: false) }
            throw SigilError(
                .missingSecret, "\(reference): principal \(context.reference) has no secret or parameter \(name)")
        }
    }

    /// Fields of issued credentials meant for the resource: an OAuth 2.0 access token and what the
    /// token endpoint said about it, STS's key id and session token. Not the refresh token, nor
    /// STS's secret key.
    static let resourceFacingIssuedFields: Set<String> = [
        "accessToken", "scope", "instanceUrl", "identityUrl", "issuedAt", "accessKeyId", "sessionToken",
    ]

    /// Merge fields (in headers, and in bodies a caller writes) may reach only what the resource
    /// is meant to see: parameters, the resource-facing fields of an issued credential, every secret
    /// of a protocol whose secrets go to the resource (basic, custom, none), and for the others
    /// (oauth2, jwt, aws-sigv4: client secrets, refresh tokens, signing keys are for the provider or
    /// the signature) only the secrets the external credential lists in `mergeFieldSecrets`.
    static func checkResourceFacing(_ field: String, _ reference: MergeReference, _ context: CredentialContext) throws {
        if let issued = context.issued, issued.fields[field] != nil {
            guard resourceFacingIssuedFields.contains(field) else {
                throw SigilError(
                    .invalidRequest,
                    "\(reference): \(field) of principal \(context.reference) is for the provider, never for the resource; merge fields cannot use it"
                )
            }
            return
        }
        guard !type(of: try context.binding.scheme.get()).secretsGoToResource else { return }
        let listed = (context.external.parameters["mergeFieldSecrets"] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard listed.contains(field) else {
            throw SigilError(
                .invalidRequest,
                """
                \(reference): secret \(field) of principal \(context.reference) is for the provider or the signature, not the resource; \
                an \(context.external.authProtocol) credential lets merge fields use only the secrets it lists in parameter mergeFieldSecrets
                """)
        }
    }
}
