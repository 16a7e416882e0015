/// One reading of a catalog, which never changes: a source hands out the same snapshot until its
/// catalog changes, so what a reader works out from it (the signing engine's routes) can be kept
/// and recognized by the snapshot's identity alone.
public final class CatalogSnapshot: Sendable {
    public let catalog: Catalog

    public init(_ catalog: Catalog) {
        self.catalog = catalog
    }
}
