import SigilCore
import SigilModel

/// The chosen principal's secrets and parameters for one request, read at most once each. For a
/// per-user principal, the acting user's authorization holds their own secrets; fields it lacks
/// come from the principal (a shared client secret, say).
final class CredentialContext {
    let source: any CredentialSource
    let external: ExternalCredential
    let principal: Principal
    let reference: PrincipalRef
    let user: String?
    let trace: SigningTrace?
    private var cache: [String: SecretBytes?] = [:]
    /// What a provider issued for this principal (STS credentials, an access token): its fields
    /// take the place of stored ones of the same name.
    var issued: IssuedCredential?

    init(source: any CredentialSource, external: ExternalCredential, principal: Principal, user: String?, trace: SigningTrace? = nil) {
        self.source = source
        self.trace = trace
        self.external = external
        self.principal = principal
        self.reference = PrincipalRef(externalCredential: external.name, principal: principal.name)
        self.user = user
    }

    func secret(_ field: String) throws -> SecretBytes? {
        if let value = issued?.fields[field] { return value }
        if let cached = cache[field] { return cached }
        let value = try source.principalSecret(field, of: key, type: principal.type)
        cache[field] = value
        if let value { trace?.secret(value) }
        return value
    }

    /// A secret the protocol cannot do without.
    /// Whose issued credential this principal would use.
    var key: IssuedCredentialKey { IssuedCredentialKey(principal: reference, user: principal.type == .perUser ? user : nil) }

    func requireSecret(_ field: String, for purpose: String) throws -> SecretBytes {
        guard let value = try secret(field) else {
            throw Self.missingSecret(field, purpose: purpose, principal: reference, user: principal.type == .perUser ? user : nil)
        }
        return value
    }

    /// The error for a secret a step cannot do without, with the command that sets it.
    static func missingSecret(_ field: String, purpose: String, principal reference: PrincipalRef, user: String?) -> SigilError {
        if let user {
            return SigilError(.signingFailed, "\(purpose) needs secret \(field), which principal \(reference) does not have for user \(user); set it with `sigil secret set \(reference) \(field) --user \(user)`")
        }
        return SigilError(.signingFailed, "\(purpose) needs secret \(field), which principal \(reference) does not have; set it with `sigil secret set \(reference) \(field)`")
    }

    /// A parameter of the principal, else of the external credential.
    func parameter(_ name: String) -> String? {
        principal.parameters[name] ?? external.parameters[name]
    }
}
