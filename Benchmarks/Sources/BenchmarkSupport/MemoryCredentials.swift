import SigilCore
import SigilModel

/// An in-memory credential source, so the benchmarks measure the engine, not SQLite.
public struct MemoryCredentials: CredentialSource {
    let catalogSnapshot: CatalogSnapshot
    let secrets: [SecretTarget: SecretBytes]

    public init(
        _ catalog: Catalog, secrets: [SecretTarget: SecretBytes], authorizedUsers: [PrincipalRef: Set<String>]? = nil
    ) {
        self.catalogSnapshot = CatalogSnapshot(catalog, authorizedUsers: authorizedUsers)
        self.secrets = secrets
    }

    public func catalog() throws -> Catalog { catalogSnapshot.catalog }
    public func snapshot() throws -> CatalogSnapshot { catalogSnapshot }
    public func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? { secrets[target] }
    public func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> {
        catalogSnapshot.authorizedUsers?[principal] ?? []
    }

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

    /// The catalog shape of issue 16's target: `credentials` named credentials with a named
    /// principal each (custom header `X-Api-Key`), and one more, `U`, whose per-user principal
    /// `U/per-user` is granted to group `everyone` and authorized by each of `users` users `u0`,
    /// `u1`, ... (custom header `X-User-Token`, one token value shared by all, to keep the
    /// benchmark's own memory small).
    public static func large(credentials: Int, users: Int) -> MemoryCredentials {
        let perUser = PrincipalRef(externalCredential: "U", principal: "per-user")
        var externals = (0..<credentials).map { index in
            ExternalCredential(
                name: "C\(index)", authProtocol: .custom,
                customHeaders: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.C\(index).apiKey}")],
                principals: [Principal(name: "p", type: .named, sequence: 1)])
        }
        externals.append(
            ExternalCredential(
                name: "U", authProtocol: .custom,
                customHeaders: [CustomHeader(name: "X-User-Token", value: "{!$Credential.U.token}")],
                principals: [Principal(name: "per-user", type: .perUser, sequence: 1)]))
        var named = (0..<credentials).map { index in
            NamedCredential(
                name: "C\(index)", url: "https://api\(index).example/v1", externalCredential: "C\(index)",
                generateAuthorizationHeader: false, allowMergeFieldsInHeader: true)
        }
        named.append(
            NamedCredential(
                name: "U", url: "https://users.example/v1", externalCredential: "U",
                generateAuthorizationHeader: false, allowMergeFieldsInHeader: true))
        let names = (0..<users).map { "u\($0)" }
        let token = SecretBytes(utf8: "user-token")
        var secrets: [SecretTarget: SecretBytes] = [:]
        for name in names { secrets[SecretTarget(owner: .authorization(perUser, user: name), field: "token")] = token }
        let apiKey = SecretBytes(utf8: "api-key")
        for index in 0..<credentials {
            secrets[
                SecretTarget(
                    owner: .principal(PrincipalRef(externalCredential: "C\(index)", principal: "p")), field: "apiKey")] =
                apiKey
        }
        return MemoryCredentials(
            Catalog(
                externalCredentials: externals.sorted { $0.name < $1.name },
                namedCredentials: named.sorted { $0.name < $1.name },
                users: names.map { User(name: $0, groups: ["everyone"]) }.sorted { $0.name < $1.name },
                groups: ["everyone"], grants: [Grant(principal: perUser, subjects: [.group("everyone")])]),
            secrets: secrets, authorizedUsers: [perUser: Set(names)])
    }
}
