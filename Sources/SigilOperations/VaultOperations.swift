public import SigilConfig
public import SigilCore
public import SigilModel
public import SigilSigning
public import SigilStore
public import SigilTokens

/// The changes to a vault that the CLI and the service both make, with every check they share:
/// each front door calls these, so a rule is written once.
public enum VaultOperations {
    /// Applies `config` (its references already read into `request`) to `vault`: the model's rules
    /// and each scheme's settings, with the file's lines; the secrets as the engine will read them
    /// (a JWT key for its algorithm, its certificate); then the store's own transaction, which checks
    /// the model's rules again. Nothing is written when any check fails.
    public static func apply(_ config: ConfigFile, resolved request: ApplyRequest, to vault: Vault, dryRun: Bool)
        throws -> ApplyReport
    {
        let stored = try vault.storedCatalog()
        if let problems = config.problems(in: stored, resolved: request.catalog, checking: SchemeRegistry.issues(in:)) {
            throw problems
        }
        let secretProblems = try SchemeRegistry.secretProblems(
            in: stored.merging(request.catalog), changed: request.secrets
        ) { try vault.secret($0) }
        if !secretProblems.isEmpty {
            throw SigilError(.invalidSecret, secretProblems.map { "\(config.fileName): \($0)" }.joined(separator: "\n"))
        }
        return try vault.apply(request, dryRun: dryRun)
    }

    /// Stores a new version of one secret, checked as the engine will read it whichever stage it
    /// goes to; returns the version.
    public static func setSecret(_ target: SecretTarget, value: SecretBytes, stage: SecretStage, in vault: Vault)
        throws -> Int
    {
        if let problem = try SchemeRegistry.secretProblems(
            in: try vault.storedCatalog(), changed: [target: value], stored: { try vault.secret($0) }
        ).first {
            throw SigilError(.invalidSecret, problem)
        }
        return try vault.setSecret(target, value: value, stage: stage)
    }
}

extension VaultOperations {
    /// Deletes `item` and what it owns. Checks first and acts after: a deletion the vault refuses (an
    /// external credential still in use, an item that does not exist) revokes nothing. Then the
    /// OAuth 2.0 tokens the deletion will forget are revoked at the provider (RFC 7009), best
    /// effort: a provider that cannot be reached does not stop the deletion. Returns one line per
    /// revocation, as recorded in the audit log.
    public static func delete(_ item: ItemRef, in vault: Vault, engine: SigningEngine, broker: CredentialBroker)
        async throws -> [String]
    {
        try vault.delete(item, dryRun: true)
        let keys: [IssuedCredentialKey]
        switch item {
        case .externalCredential(let name): keys = try vault.issuedCredentialKeys(externalCredential: name)
        case .principal(let reference):
            keys = try vault.issuedCredentialKeys(
                externalCredential: reference.externalCredential, principal: reference.principal)
        case .authorization(let reference, let user):
            keys = try vault.issuedCredentialKeys(
                externalCredential: reference.externalCredential, principal: reference.principal, user: user)
        case .user(let name): keys = try vault.issuedCredentialKeys(user: name)
        default: keys = []
        }
        var outcomes: [String] = []
        for key in keys {
            guard let request = try? engine.issuanceRequest(for: key) else { continue }
            outcomes.append("\(key): \(try await broker.revoke(request))")
        }
        try vault.delete(item, dryRun: false)
        return outcomes
    }
}
