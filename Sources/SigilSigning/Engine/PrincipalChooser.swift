import SigilCore
import SigilModel

/// Which principal decorates a request for a user (Salesforce's rule): a per-user principal the
/// user may use and has authorized wins; otherwise the named principals the user is granted, lowest
/// sequence number first. Without an acting user (the vault's own operator), the named principal
/// with the lowest sequence number.
enum PrincipalChooser {
    static func choose(
        in credential: ExternalCredential, user: String?, catalog: Catalog,
        authorizedUsers: (PrincipalRef) throws -> Set<String>
    ) throws -> Principal {
        let ordered = credential.principals.sorted { $0.sequence < $1.sequence }
        guard let user else {
            guard let principal = ordered.first(where: { $0.type == .named }) else {
                throw SigilError(
                    .noPrincipal,
                    "external credential \(credential.name) has no named principal; give the acting user for its per-user principals"
                )
            }
            return principal
        }
        let granted = try grantCheck(credential, user: user, catalog: catalog)
        for principal in ordered where principal.type == .perUser && granted(principal) {
            if try authorizedUsers(PrincipalRef(externalCredential: credential.name, principal: principal.name))
                .contains(user)
            {
                return principal
            }
        }
        if let principal = ordered.first(where: { $0.type == .named && granted($0) }) {
            return principal
        }
        throw SigilError(
            .noPrincipal,
            "no principal of external credential \(credential.name) is available to user \(user): grant one to the user or a group, or authorize a per-user principal"
        )
    }

    /// The principal `user` would authorize with `sigil auth login`: their first granted per-user
    /// principal, authorized or not; without a user, the first named principal.
    static func chooseForLogin(in credential: ExternalCredential, user: String?, catalog: Catalog) throws -> Principal {
        let ordered = credential.principals.sorted { $0.sequence < $1.sequence }
        guard let user else {
            guard let principal = ordered.first(where: { $0.type == .named }) else {
                throw SigilError(
                    .noPrincipal,
                    "external credential \(credential.name) has no named principal; give the user (--as) who authorizes a per-user principal"
                )
            }
            return principal
        }
        let granted = try grantCheck(credential, user: user, catalog: catalog)
        guard let principal = ordered.first(where: { $0.type == .perUser && granted($0) }) else {
            throw SigilError(
                .noPrincipal,
                "no per-user principal of external credential \(credential.name) is granted to user \(user)")
        }
        return principal
    }

    /// Whether a principal of `credential` is granted to `user`, directly or through a group.
    private static func grantCheck(_ credential: ExternalCredential, user: String, catalog: Catalog) throws -> (
        Principal
    ) -> Bool {
        guard let member = catalog.user(named: user) else {
            throw SigilError(.noPrincipal, "user \(user.sanitizedForMessage) does not exist")
        }
        return { principal in
            catalog.isGranted(PrincipalRef(externalCredential: credential.name, principal: principal.name), to: member)
        }
    }
}
