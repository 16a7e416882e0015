import ArgumentParser
import SigilOperations
import SigilStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract:
            "List credentials, principals, users, groups and authorizations (secrets as set or unset, never values)."
    )

    @OptionGroup var options: VaultOptions

    @OptionGroup var expiry: ExpiryOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let view = try CatalogView(vault: try options.open(), warningDays: expiry.expiryWarningDays)
        if json {
            try Output.json(view)
            return
        }
        if view.externalCredentials.isEmpty && view.namedCredentials.isEmpty && view.users.isEmpty {
            print("The vault is empty. Describe credentials in a file and run `sigil apply -f FILE`.")
            return
        }
        for credential in view.externalCredentials { view.printExternalCredential(credential, detailed: false) }
        for credential in view.namedCredentials { view.printNamedCredential(credential, detailed: false) }
        for user in view.users {
            print("User \(user.name)\(user.groups.isEmpty ? "" : " (groups: \(user.groups.joined(separator: ", ")))")")
        }
        for authorization in view.authorizations {
            print(
                "Authorization of \(authorization.user) for \(authorization.principal): \(authorization.status); secrets: \(CatalogView.describe(authorization.secrets))"
            )
        }
    }
}
