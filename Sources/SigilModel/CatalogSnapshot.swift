/// One reading of a catalog, which never changes: a source hands out the same snapshot until its
/// catalog changes, so what a reader works out from it (the signing engine's routes) can be kept
/// and recognized by the snapshot's identity alone.
public final class CatalogSnapshot: Sendable {
    public let catalog: Catalog
    /// The users whose authorization of each per-user principal is live, read with the catalog;
    /// `nil` when the source did not read them (ask ``CredentialSource/authorizedUsers(of:)``).
    public let authorizedUsers: [PrincipalRef: Set<String>]?
    /// The source's mark of what it read (the vault: a digest of its catalog's row-set MACs, which
    /// change with every change of the catalog), so that secrets read later can be checked against
    /// it (``CredentialSource/principalSecrets(of:type:consistentWith:)``).
    /// `nil` when the source keeps none.
    public let version: [UInt8]?
    public init(_ catalog: Catalog, authorizedUsers: [PrincipalRef: Set<String>]? = nil, version: [UInt8]? = nil) {
        self.catalog = catalog
        self.authorizedUsers = authorizedUsers
        self.version = version
    }

    /// Whether `other` describes the same catalog, authorizations and version.
    public func sameContent(as other: CatalogSnapshot) -> Bool {
        version == other.version && catalog == other.catalog && authorizedUsers == other.authorizedUsers
    }
}
