import ArgumentParser
import SigilCore
import SigilModel
import SigilStore

struct DeleteCommand: ParsableCommand {
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

    func run() throws {
        let vault = try options.open()
        switch kind {
        case .externalCredential: try vault.delete(.externalCredential(name))
        case .namedCredential: try vault.delete(.namedCredential(name))
        case .user: try vault.delete(.user(name))
        case .group: try vault.delete(.group(name))
        case .principal: try vault.delete(.principal(try principal()))
        case .grant:
            if rest.isEmpty {
                try vault.delete(.grant(try principal()))
            } else {
                let subjects = try rest.map { text in
                    guard let subject = GrantSubject(parsing: text) else { throw ValidationError("\(text) is not user:NAME or group:NAME") }
                    return subject
                }
                try vault.revoke(try principal(), from: subjects)
            }
        case .authorization:
            guard rest.count == 1 else { throw ValidationError("delete authorization takes EC/NAME and one USER") }
            try vault.delete(.authorization(try principal(), user: rest[0]))
        }
        print("Deleted \(kind.rawValue) \(([name] + rest).joined(separator: " ")).")
    }

    private func principal() throws -> PrincipalRef {
        guard let reference = PrincipalRef(parsing: name) else { throw ValidationError("\(name) is not EC/PRINCIPAL") }
        return reference
    }
}
