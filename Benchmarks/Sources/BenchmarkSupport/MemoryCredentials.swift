import SigilCore
import SigilModel

/// An in-memory credential source, so the benchmarks measure the engine, not SQLite.
public struct MemoryCredentials: CredentialSource {
    let catalogSnapshot: CatalogSnapshot
    let secrets: [SecretTarget: SecretBytes]

    public init(_ catalog: Catalog, secrets: [SecretTarget: SecretBytes]) {
        self.catalogSnapshot = CatalogSnapshot(catalog)
        self.secrets = secrets
    }

    public func catalog() throws -> Catalog { catalogSnapshot.catalog }
    public func snapshot() throws -> CatalogSnapshot { catalogSnapshot }
    public func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? { secrets[target] }
    public func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> { [] }

    /// A one-credential source for `protocol` with `parameters` and the secrets of principal `p`.
    public static func single(
        _ authProtocol: AuthProtocol, parameters: [String: String] = [:], secrets: [String: SecretBytes],
        headers: [CustomHeader] = [], principalParameters: [String: String] = [:]
    ) -> MemoryCredentials {
        let reference = PrincipalRef(externalCredential: "Api", principal: "p")
        return MemoryCredentials(
            Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "Api", authProtocol: authProtocol, parameters: parameters, customHeaders: headers,
                        principals: [Principal(name: "p", type: .named, sequence: 1, parameters: principalParameters)])
                ],
                namedCredentials: [
                    NamedCredential(
                        name: "Api", url: "https://api.example.com/v1", externalCredential: "Api",
                        generateAuthorizationHeader: authProtocol != .custom, allowMergeFieldsInHeader: true)
                ]
            ),
            secrets: Dictionary(
                uniqueKeysWithValues: secrets.map {
                    (SecretTarget(owner: .principal(reference), field: $0.key), $0.value)
                })
        )
    }
}
