public import SigilCore

/// Where the signing engine reads credentials from: the vault, or an in-memory fake in unit tests.
public protocol CredentialSource: Sendable {
    /// Everything the vault describes, without secret values.
    func catalog() throws -> Catalog
    /// The catalog as a snapshot: the same object for as long as the catalog is unchanged (the
    /// default wraps ``catalog()`` anew each time, which is always correct but keeps nothing).
    func snapshot() throws -> CatalogSnapshot
    /// ``snapshot()`` with the source's mark of its stored secrets (the vault: the secrets table's
    /// row-set MAC), which changes whenever any secret is set, staged or deleted: secrets a reader
    /// kept under another mark are stale. `nil`: the source keeps no mark (then nothing is kept).
    func snapshotAndSecretsVersion() throws -> (CatalogSnapshot, secretsVersion: [UInt8]?)
    /// ``snapshotAndSecretsVersion()`` holding at least what a request for `scope` needs: the named
    /// credentials its URL may target, their external credentials and principals, and the acting
    /// user with their groups, grants and authorizations of those principals. A source with a large
    /// catalog may read only that (the vault does, for one-shot commands); the default hands out the
    /// whole catalog.
    func snapshotAndSecretsVersion(for scope: CatalogScope) throws -> (CatalogSnapshot, secretsVersion: [UInt8]?)
    /// The value of `target` in `stage`, or `nil` when it has none.
    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes?
    /// Every current secret one request may use from principal `key.principal` (for a per-user
    /// principal and `key.user`, that user's own fields, then the principal's for fields the user
    /// lacks), read together: fields changed together (a username and its password) are seen
    /// together. Throws ``SigilError/Code/catalogChanged`` when the catalog changed since
    /// `snapshot` (the one the request was prepared from) was read. `nil`: this source reads fields one
    /// by one through ``secret(_:stage:)`` (the default).
    func principalSecrets(of key: IssuedCredentialKey, type: PrincipalType, consistentWith snapshot: CatalogSnapshot)
        throws -> [String: SecretBytes]?
    /// The users whose authorization of per-user principal `principal` is live.
    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String>
    /// A short fingerprint of a secret, for `--explain` and messages (see the default below).
    func fingerprint(_ value: SecretBytes) -> String
}

extension CredentialSource {
    public func snapshot() throws -> CatalogSnapshot { CatalogSnapshot(try catalog()) }

    public func snapshotAndSecretsVersion() throws -> (CatalogSnapshot, secretsVersion: [UInt8]?) {
        (try snapshot(), nil)
    }

    public func snapshotAndSecretsVersion(for scope: CatalogScope) throws -> (
        CatalogSnapshot, secretsVersion: [UInt8]?
    ) {
        try snapshotAndSecretsVersion()
    }

    public func principalSecrets(
        of key: IssuedCredentialKey, type: PrincipalType, consistentWith snapshot: CatalogSnapshot
    ) throws -> [String: SecretBytes]? { nil }

    /// A short fingerprint of a secret for logs and `--explain`. Sources that hold a key should
    /// override this with a keyed one (the vault does); this default only says a secret was there.
    public func fingerprint(_ value: SecretBytes) -> String { "redacted" }
}

extension SigilError.Code {
    /// The catalog changed while a request was being prepared: prepare it again.
    public static let catalogChanged = Self("catalog-changed")
}
