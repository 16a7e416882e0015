public import SigilCore
public import SigilModel

/// Secrets checked when they are written (`sigil apply`, `sigil secret set`), with the parsers
/// the engine signs with, so that a key of the wrong shape fails there, naming the item and field,
/// and not on the first request. Today: JWT signing keys (their algorithm, size and curve) and the
/// certificate that goes with them (it must hold the key's public key).
public enum SecretChecks {
    /// Problems with the secrets `changed` assigns, in `catalog` (the vault's catalog with the
    /// change applied); `stored` reads a secret the change leaves as it is.
    public static func problems(
        in catalog: Catalog, changed: [SecretTarget: SecretBytes], stored: (SecretTarget) throws -> SecretBytes?
    ) throws -> [String] {
        var problems: [String] = []
        var checked = Set<SecretOwner>()
        for target in changed.keys.sorted(by: { $0.description < $1.description }) where ["signingKey", "certificate"].contains(target.field) {
            guard checked.insert(target.owner).inserted else { continue }
            let reference: PrincipalRef
            switch target.owner {
            case .principal(let principal), .authorization(let principal, _): reference = principal
            case .namedCredential: continue
            }
            guard let external = catalog.externalCredential(named: reference.externalCredential), external.authProtocol == .jwt,
                  let principal = external.principals.first(where: { $0.name == reference.principal })
            else { continue }
            func value(_ field: String) throws -> SecretBytes? {
                let target = SecretTarget(owner: target.owner, field: field)
                return try changed[target] ?? stored(target)
            }
            let certificate = try value("certificate").map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
                ?? principal.parameters["certificate"] ?? external.parameters["certificate"]
            let key = try value("signingKey")
            do {
                try JWTAuthorization.check(
                    algorithm: principal.parameters["algorithm"] ?? external.parameters["algorithm"], key: key,
                    certificate: certificate, owner: "\(target.owner), secret \(target.field)"
                )
            } catch {
                problems.append(error.reason)
            }
        }
        return problems
    }
}
