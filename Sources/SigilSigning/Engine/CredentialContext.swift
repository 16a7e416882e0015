import SigilCore
import SigilModel

/// A principal with its external credential and, for a per-user principal, the acting user: who
/// signs, which does not change from one request to the next. A named credential's route keeps one
/// for requests without an acting user, so such requests build none.
final class PrincipalBinding: Sendable {
    let external: ExternalCredential
    let principal: Principal
    let reference: PrincipalRef
    /// Whose issued credential the principal uses (with the user only for a per-user principal).
    let key: IssuedCredentialKey
    /// The principal's typed settings and how it decorates, parsed once (or why they do not parse,
    /// which the request that needs them throws).
    let scheme: Result<any AuthorizationScheme, SigilError>
    /// What the issuer is asked for, when the principal signs with an issued credential (STS,
    /// OAuth 2.0).
    let issuance: IssuanceRequest?

    /// The principal's current secrets as last read, kept for requests through this binding (see
    /// ``KeptSecrets``). A change of the catalog drops the binding with them.
    let secrets = KeptSecrets<[String: SecretBytes]?>()
    /// What a scheme works out from those secrets alone and would otherwise work out again for
    /// every request (Basic's `Authorization` value), kept under the same version and lifetime.
    let derived = KeptSecrets<SecretBytes>()

    /// Drops the kept secrets and what was derived from them.
    func dropKept() {
        secrets.drop()
        derived.drop()
    }

    init(external: ExternalCredential, principal: Principal, user: String?, source: any CredentialSource) {
        self.external = external
        self.principal = principal
        let reference = PrincipalRef(externalCredential: external.name, principal: principal.name)
        let key = IssuedCredentialKey(principal: reference, user: principal.type == .perUser ? user : nil)
        self.reference = reference
        self.key = key
        let scheme = Result { () throws(SigilError) in try SchemeRegistry.scheme(of: external, principal: principal) }
        self.scheme = scheme
        issuance = (try? scheme.get()).flatMap { scheme in
            scheme.issuance.map {
                IssuanceRequest(
                    kind: $0, key: key, external: external, principal: principal, scheme: scheme, source: source)
            }
        }
    }
}

/// The chosen principal's secrets and parameters for one request. For a per-user principal, the
/// acting user's authorization holds their own secrets; fields it lacks come from the principal (a
/// shared client secret, say).
///
/// The secrets are read together, on first use, from one reading of the vault that matches the
/// catalog snapshot the request was prepared from: a request never combines a username from one
/// `apply` with a password from the next (a source that cannot read them together is read field
/// by field, each at most once).
package final class CredentialContext {
    let source: any CredentialSource
    let binding: PrincipalBinding
    let user: String?
    let trace: SigningTrace?
    /// The catalog the request was prepared from (`nil`: secrets are read field by field).
    let snapshot: CatalogSnapshot?
    /// The source's secrets version when the request was prepared (`nil`: secrets are not kept).
    let secretsVersion: [UInt8]?
    /// How long secrets read for this principal may be kept for later requests (zero: not kept).
    let preparedLifetime: Duration
    /// Every current secret, once read together.
    private var secrets: [String: SecretBytes]?
    private var cache: [String: SecretBytes?] = [:]
    /// What a provider issued for this principal (STS credentials, an access token): its fields
    /// take the place of stored ones of the same name.
    var issued: IssuedCredential?

    init(
        source: any CredentialSource, binding: PrincipalBinding, user: String?, snapshot: CatalogSnapshot? = nil,
        secretsVersion: [UInt8]? = nil, preparedLifetime: Duration = .zero, trace: SigningTrace? = nil
    ) {
        self.secretsVersion = secretsVersion
        self.source = source
        self.binding = binding
        self.user = user
        self.snapshot = snapshot
        self.preparedLifetime = preparedLifetime
        self.trace = trace
    }

    /// Whether secrets read for this request are kept for later ones (a value that lives for this
    /// request alone need not be locked in memory).
    var keepsSecrets: Bool { secretsVersion != nil && preparedLifetime > .zero }

    var external: ExternalCredential { binding.external }
    var principal: Principal { binding.principal }
    var reference: PrincipalRef { binding.reference }
    /// Whose issued credential this principal would use.
    var key: IssuedCredentialKey { binding.key }

    func secret(_ field: String) throws -> SecretBytes? {
        if let value = issued?.fields[field] { return value }
        if secrets == nil, let snapshot {
            secrets = try binding.secrets.value(for: self) {
                try source.principalSecrets(of: key, type: principal.type, consistentWith: snapshot)
            }
        }
        if let secrets { return secrets[field] }
        if let cached = cache[field] { return cached }
        let value = try source.principalSecret(field, of: key, type: principal.type)
        cache[field] = value
        return value
    }

    /// A secret the protocol cannot do without.
    func requireSecret(_ field: String, for purpose: String) throws -> SecretBytes {
        guard let value = try secret(field) else {
            throw Self.missingSecret(
                field, purpose: purpose, principal: reference, user: principal.type == .perUser ? user : nil)
        }
        return value
    }

    /// The error for a secret a step cannot do without, with the command that sets it.
    static func missingSecret(_ field: String, purpose: String, principal reference: PrincipalRef, user: String?)
        -> SigilError
    {
        if let user {
            return SigilError(
                .missingSecret,
                "\(purpose) needs secret \(field), which principal \(reference) does not have for user \(user); set it with `sigil secret set \(reference) \(field) --user \(user)`"
            )
        }
        return SigilError(
            .missingSecret,
            "\(purpose) needs secret \(field), which principal \(reference) does not have; set it with `sigil secret set \(reference) \(field)`"
        )
    }

    /// A parameter of the principal, else of the external credential.
    func parameter(_ name: String) -> String? {
        principal.parameters[name] ?? external.parameters[name]
    }
}
