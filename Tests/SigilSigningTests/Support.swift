import SigilCore
import SigilModel
import Synchronization

/// An in-memory credential source for unit tests of the engine (the vault is tested on its own).
final class MemorySource: CredentialSource {
    let catalogSnapshot: CatalogSnapshot
    let secrets: [SecretTarget: SecretBytes]
    let authorizations: [PrincipalRef: Set<String>]

    init(_ catalog: Catalog, secrets: [SecretTarget: String] = [:], authorizations: [PrincipalRef: Set<String>] = [:]) {
        self.catalogSnapshot = CatalogSnapshot(catalog)
        self.secrets = secrets.mapValues { SecretBytes(utf8: $0) }
        self.authorizations = authorizations
    }

    func catalog() throws -> Catalog { catalogSnapshot.catalog }
    func snapshot() throws -> CatalogSnapshot { catalogSnapshot }

    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? {
        stage == .current ? secrets[target] : nil
    }

    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> {
        authorizations[principal] ?? []
    }
}

func principalSecret(_ credential: String, _ principal: String, _ field: String) -> SecretTarget {
    SecretTarget(owner: .principal(PrincipalRef(externalCredential: credential, principal: principal)), field: field)
}

func userSecret(_ credential: String, _ principal: String, _ user: String, _ field: String) -> SecretTarget {
    SecretTarget(
        owner: .authorization(PrincipalRef(externalCredential: credential, principal: principal), user: user),
        field: field)
}
