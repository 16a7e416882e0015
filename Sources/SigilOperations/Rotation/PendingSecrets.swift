import SigilCore
import SigilModel
import SigilStore

/// The vault as a rotation's test sees it: `owner`'s rotated fields read from their `pending`
/// versions in place of `current`, everything else as stored. Keeps nothing between requests (no
/// secrets version), so nothing tested is cached for real requests.
struct PendingSecrets: CredentialSource {
    let vault: Vault
    let owner: SecretOwner
    let fields: Set<String>

    func catalog() throws -> Catalog { try vault.catalog() }

    func secret(_ target: SecretTarget, stage: SecretStage) throws -> SecretBytes? {
        if stage == .current, target.owner == owner, fields.contains(target.field) {
            return try vault.secret(target, stage: .pending)
        }
        return try vault.secret(target, stage: stage)
    }

    func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> {
        try vault.authorizedUsers(of: principal)
    }

    func fingerprint(_ value: SecretBytes) -> String { vault.fingerprint(value) }
}
