public import SigilCore

/// Where the signing engine reads credentials from: the vault, or an in-memory fake in unit tests.
public protocol CredentialSource: Sendable {
    /// Everything the vault describes, without secret values.
    func catalog() throws -> Catalog
    /// The catalog as a snapshot: the same object for as long as the catalog is unchanged (the
    /// default wraps ``catalog()`` anew each time, which is always correct but keeps nothing).
    func snapshot() throws -> CatalogSnapshot
    /// The value of `target` in `stage`, or `nil` when it has none.
    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes?
    /// The users whose authorization of per-user principal `principal` is live.
    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String>
    /// A short fingerprint of a secret, for `--explain` and messages (see the default below).
    func fingerprint(_ value: SecretBytes) -> String
}

extension CredentialSource {
    public func snapshot() throws -> CatalogSnapshot { CatalogSnapshot(try catalog()) }

    /// A short fingerprint of a secret for logs and `--explain`. Sources that hold a key should
    /// override this with a keyed one (the vault does); this default only says a secret was there.
    public func fingerprint(_ value: SecretBytes) -> String { "redacted" }
}
