public import SigilCore

/// What `apply` writes: the items of one configuration file, and the secret values it assigns,
/// already read from their references.
public struct ApplyRequest: Sendable {
    public var catalog: Catalog
    /// New values for secrets. A secret the request does not mention keeps its value.
    public var secrets: [SecretTarget: SecretBytes]

    public init(catalog: Catalog, secrets: [SecretTarget: SecretBytes] = [:]) {
        self.catalog = catalog
        self.secrets = secrets
    }
}
