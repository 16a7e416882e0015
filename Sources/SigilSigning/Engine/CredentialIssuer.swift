public import SigilCore
public import SigilModel

/// Obtains the credentials a principal does not hold itself but gets from a provider with the
/// secrets it does hold: AWS STS temporary credentials (a SigV4 principal with a `roleArn`), OAuth
/// 2.0 access tokens. The engine asks for one per request; an implementation caches them and goes
/// to the provider only when the value is missing or about to expire (`SigilTokens`'s
/// `CredentialBroker` does, with the vault).
public protocol CredentialIssuer: Sendable {
    /// A credential for `request` that is good for a while yet.
    nonisolated(nonsending) func credential(for request: IssuanceRequest) async throws -> IssuedCredential
    /// The credential ``credential(for:)`` would return, when it is at hand now (in memory, good for
    /// a while yet) and needs no waiting; else `nil`. The engine asks this first on every request.
    func heldCredential(for request: IssuanceRequest) -> IssuedCredential?
    /// A new credential in place of `rejected`, which the resource refused; obtained once however
    /// many requests report the same rejection.
    func replace(rejected: IssuedCredential, for request: IssuanceRequest) async throws -> IssuedCredential
}

extension CredentialIssuer {
    public func heldCredential(for request: IssuanceRequest) -> IssuedCredential? { nil }
}

/// What the engine asks an issuer for: whose credential, of which kind, with the principal's
/// parameters and stored secrets (the keys a provider call is made with).
///
/// Its fields live in one shared box: the engine keeps a request per principal and hands it to the
/// issuer on every request, so a copy should cost one reference.
public struct IssuanceRequest: Sendable {
    private final class Fields: Sendable {
        let kind: IssuedCredential.Kind
        let key: IssuedCredentialKey
        let external: ExternalCredential
        let principal: Principal
        let scheme: any AuthorizationScheme
        let source: any CredentialSource

        init(
            kind: IssuedCredential.Kind, key: IssuedCredentialKey, external: ExternalCredential, principal: Principal,
            scheme: any AuthorizationScheme, source: any CredentialSource
        ) {
            self.kind = kind
            self.key = key
            self.external = external
            self.principal = principal
            self.scheme = scheme
            self.source = source
        }
    }

    private let fields: Fields

    public var kind: IssuedCredential.Kind { fields.kind }
    public var key: IssuedCredentialKey { fields.key }
    public var external: ExternalCredential { fields.external }
    public var principal: Principal { fields.principal }
    var source: any CredentialSource { fields.source }

    package init(
        kind: IssuedCredential.Kind, key: IssuedCredentialKey, external: ExternalCredential, principal: Principal,
        scheme: any AuthorizationScheme, source: any CredentialSource
    ) {
        fields = Fields(kind: kind, key: key, external: external, principal: principal, scheme: scheme, source: source)
    }

    /// The request for `key`'s credential, its principal's settings parsed; fails when they do not
    /// parse or the principal signs with its stored secrets.
    public init(
        key: IssuedCredentialKey, external: ExternalCredential, principal: Principal, source: any CredentialSource
    ) throws {
        let scheme = try SchemeRegistry.scheme(of: external, principal: principal)
        guard let kind = scheme.issuance else {
            throw SigilError(
                .unsupported, "principal \(key.principal) signs with its stored secrets; no credential is issued for it"
            )
        }
        self.init(kind: kind, key: key, external: external, principal: principal, scheme: scheme, source: source)
    }

    /// Which kind of issued credential a principal of `external` signs with, if any (STS for a
    /// SigV4 principal with a `roleArn`, an access token for OAuth 2.0); fails when the principal's
    /// settings do not parse.
    public static func kind(of external: ExternalCredential, principal: Principal) throws -> IssuedCredential.Kind? {
        try SchemeRegistry.scheme(of: external, principal: principal).issuance
    }

    /// The principal's settings, as the scheme `type` parsed them.
    package func scheme<Scheme: AuthorizationScheme>(_ type: Scheme.Type) throws -> Scheme {
        guard let scheme = fields.scheme as? Scheme else {
            throw SigilError(
                .unsupported,
                "principal \(key.principal) uses protocol \(external.authProtocol), not \(Scheme.authProtocol)")
        }
        return scheme
    }

    /// A parameter of the principal, else of the external credential.
    public func parameter(_ name: String) -> String? {
        principal.parameters[name] ?? external.parameters[name]
    }

    /// A secret the principal holds in the vault (for a per-user principal, the user's own first).
    public func storedSecret(_ field: String) throws -> SecretBytes? {
        try source.principalSecret(field, of: key, type: principal.type)
    }

    /// A stored secret the provider call cannot do without.
    public func requireStoredSecret(_ field: String, for purpose: String) throws -> SecretBytes {
        guard let value = try storedSecret(field) else {
            throw CredentialContext.missingSecret(
                field, purpose: purpose, principal: key.principal, user: principal.type == .perUser ? key.user : nil)
        }
        return value
    }
}

extension CredentialSource {
    /// `field` of a principal: for a per-user principal and a user, the user's authorization holds
    /// their own secrets; fields it lacks come from the principal (a shared client secret, say).
    func principalSecret(_ field: String, of key: IssuedCredentialKey, type: PrincipalType) throws -> SecretBytes? {
        if type == .perUser, let user = key.user,
            let value = try secret(
                SecretTarget(owner: .authorization(key.principal, user: user), field: field), stage: .current)
        {
            return value
        }
        return try secret(SecretTarget(owner: .principal(key.principal), field: field), stage: .current)
    }
}
