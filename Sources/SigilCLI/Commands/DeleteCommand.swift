import ArgumentParser
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTokens

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete an item and everything it owns.",
        discussion: """
            KIND is one of:
              external-credential NAME      (refused while named credentials use it)
              named-credential NAME
              principal EC/NAME             (with its secrets, grants and authorizations)
              user NAME                     (with their memberships, grants and authorizations)
              group NAME
              grant EC/NAME [SUBJECT...]    (all of the principal's grants, or only user:X / group:Y)
              authorization EC/NAME USER
            OAuth 2.0 tokens the deleted item held are first revoked at the provider (RFC 7009, \
            when the credential has a revokeUrl); the outcome is printed and recorded in the audit log.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case externalCredential = "external-credential"
        case namedCredential = "named-credential"
        case principal, user, group, grant, authorization
    }

    @OptionGroup var options: VaultOptions

    @Argument(help: "What kind of item.")
    var kind: Kind

    @Argument(help: "Its name (EC/NAME for principals, grants and authorizations).")
    var name: String

    @Argument(help: "For grant: the subjects to remove; for authorization: the user.")
    var rest: [String] = []

    func run() async throws {
        try await EngineSession.with(options) { session in
            // Check first, act after: a deletion the vault refuses (an external credential still in
            // use, an item that does not exist) must not revoke anything at the provider.
            try delete(session.vault, dryRun: true)
            try await revokeIssued(session)
            try delete(session.vault, dryRun: false)
        }
        print("Deleted \(kind.rawValue) \(([name] + rest).joined(separator: " ")).")
    }

    /// Revokes the tokens the item's deletion will forget, best effort: a provider that cannot be
    /// reached does not stop the deletion; the outcome is recorded either way.
    private func revokeIssued(_ session: EngineSession) async throws {
        let keys: [IssuedCredentialKey]
        switch kind {
        case .externalCredential: keys = try session.vault.issuedCredentialKeys(externalCredential: name)
        case .principal:
            let reference = try principal()
            keys = try session.vault.issuedCredentialKeys(
                externalCredential: reference.externalCredential, principal: reference.principal)
        case .authorization where rest.count == 1:
            let reference = try principal()
            keys = try session.vault.issuedCredentialKeys(
                externalCredential: reference.externalCredential, principal: reference.principal, user: rest[0])
        case .user: keys = try session.vault.issuedCredentialKeys(user: name)
        default: keys = []
        }
        for key in keys {
            guard let request = try? session.engine.issuanceRequest(for: key) else { continue }
            Output.note("\(key): \(try await session.broker.revoke(request))")
        }
    }

    private func delete(_ vault: Vault, dryRun: Bool) throws {
        switch kind {
        case .externalCredential: try vault.delete(.externalCredential(name), dryRun: dryRun)
        case .namedCredential: try vault.delete(.namedCredential(name), dryRun: dryRun)
        case .user: try vault.delete(.user(name), dryRun: dryRun)
        case .group: try vault.delete(.group(name), dryRun: dryRun)
        case .principal: try vault.delete(.principal(try principal()), dryRun: dryRun)
        case .grant:
            if rest.isEmpty {
                try vault.delete(.grant(try principal()), dryRun: dryRun)
            } else if !dryRun {
                let subjects = try rest.map { text in
                    guard let subject = GrantSubject(parsing: text) else {
                        throw ValidationError("\(text) is not user:NAME or group:NAME")
                    }
                    return subject
                }
                try vault.revoke(try principal(), from: subjects)
            }
        case .authorization:
            guard rest.count == 1 else { throw ValidationError("delete authorization takes EC/NAME and one USER") }
            try vault.delete(.authorization(try principal(), user: rest[0]), dryRun: dryRun)
        }
    }

    private func principal() throws -> PrincipalRef {
        guard let reference = PrincipalRef(parsing: name) else { throw ValidationError("\(name) is not EC/PRINCIPAL") }
        return reference
    }
}
