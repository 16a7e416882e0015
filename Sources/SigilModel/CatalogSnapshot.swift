/// One reading of a catalog, which never changes: a source hands out the same snapshot until its
/// catalog changes, so what a reader works out from it (the signing engine's routes) can be kept
/// and recognized by the snapshot's identity alone.
public final class CatalogSnapshot: Sendable {
    public let catalog: Catalog
    /// The users whose authorization of each per-user principal is live, read with the catalog;
    /// `nil` when the source did not read them (ask ``CredentialSource/authorizedUsers(of:)``).
    public let authorizedUsers: [PrincipalRef: Set<String>]?

    public init(_ catalog: Catalog, authorizedUsers: [PrincipalRef: Set<String>]? = nil) {
        self.catalog = catalog
        self.authorizedUsers = authorizedUsers
    }

    /// Whether `other` describes the same catalog and authorizations.
    public func sameContent(as other: CatalogSnapshot) -> Bool {
        catalog == other.catalog && authorizedUsers == other.authorizedUsers
    }
}
