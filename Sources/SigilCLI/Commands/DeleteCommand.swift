import ArgumentParser
import SigilCore
import SigilModel
import SigilOperations
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
            if kind == .grant && !rest.isEmpty {
                let subjects = try rest.map { text in
                    guard let subject = GrantSubject(parsing: text) else {
                        throw ValidationError("\(text) is not user:NAME or group:NAME")
                    }
                    return subject
                }
                try session.vault.revoke(try principal(), from: subjects)
                return
            }
            for outcome in try await VaultOperations.delete(
                try item(), in: session.vault, engine: session.engine, broker: session.broker)
            {
                Output.note(outcome)
            }
        }
        print("Deleted \(kind.rawValue) \(([name] + rest).joined(separator: " ")).")
    }

    private func item() throws -> ItemRef {
        switch kind {
        case .externalCredential: return .externalCredential(name)
        case .namedCredential: return .namedCredential(name)
        case .user: return .user(name)
        case .group: return .group(name)
        case .principal: return .principal(try principal())
        case .grant: return .grant(try principal())
        case .authorization:
            guard rest.count == 1 else { throw ValidationError("delete authorization takes EC/NAME and one USER") }
            return .authorization(try principal(), user: rest[0])
        }
    }

    private func principal() throws -> PrincipalRef {
        guard let reference = PrincipalRef(parsing: name) else { throw ValidationError("\(name) is not EC/PRINCIPAL") }
        return reference
    }
}
