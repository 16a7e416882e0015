import ArgumentParser
import SigilCore
import SigilModel
import SigilOperations
import SigilStore

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract:
            "Show one item in detail: a credential NAME (external and named credentials may share it), a principal EC/NAME, or user:NAME.",
        discussion: "Secrets are shown as set or unset, with their versions and stages, never their values."
    )

    @OptionGroup var options: VaultOptions

    @OptionGroup var expiry: ExpiryOptions

    @Argument(help: "NAME, EC/PRINCIPAL or user:NAME.")
    var name: String

    @Flag(help: "Print JSON.")
    var json = false

    struct Found: Encodable {
        var externalCredential: CatalogView.ExternalCredentialView?
        var namedCredential: CatalogView.NamedCredentialView?
        var principal: CatalogView.PrincipalView?
        var user: CatalogView.UserView?
        var authorizations: [AuthorizationStatus]?
    }

    func run() throws {
        let view = try CatalogView(vault: try options.open(), warningDays: expiry.expiryWarningDays)
        var found = Found()
        if name.hasPrefix("user:") {
            let userName = String(name.dropFirst(5))
            found.user = view.users.first { $0.name == userName }
            if found.user != nil { found.authorizations = view.authorizations.filter { $0.user == userName } }
        } else if let reference = PrincipalRef(parsing: name) {
            found.principal = view.externalCredentials.first { $0.name == reference.externalCredential }?
                .principals.first { $0.name == reference.principal }
            if found.principal != nil { found.authorizations = view.authorizations.filter { $0.principal == name } }
        } else {
            found.externalCredential = view.externalCredentials.first { $0.name == name }
            found.namedCredential = view.namedCredentials.first { $0.name == name }
        }
        guard
            found.externalCredential != nil || found.namedCredential != nil || found.principal != nil
                || found.user != nil
        else {
            throw SigilError(.notFound, "nothing named \(name.sanitizedForMessage) in vault \(options.vaultPath)")
        }
        if json {
            try Output.json(found)
            return
        }
        if let credential = found.externalCredential { view.printExternalCredential(credential, detailed: true) }
        if let credential = found.namedCredential { view.printNamedCredential(credential, detailed: true) }
        if let principal = found.principal {
            print("Principal \(name): \(principal.type), sequence \(principal.sequence)")
            for (key, value) in principal.parameters.sorted(by: { $0.key < $1.key }) {
                print("  parameter \(key): \(value)")
            }
            print(
                "  granted to: \(principal.grantedTo.isEmpty ? "nobody" : principal.grantedTo.joined(separator: ", "))")
            for status in principal.secrets {
                for version in status.versions {
                    print(
                        "  secret \(status.field): set, version \(version.version) \(version.stage), created \(version.createdAt), data key \(version.dataKey)"
                    )
                }
            }
            if principal.secrets.isEmpty { print("  secrets: none set") }
        }
        if let user = found.user {
            print("User \(user.name)\(user.groups.isEmpty ? "" : " (groups: \(user.groups.joined(separator: ", ")))")")
        }
        for authorization in found.authorizations ?? [] {
            print(
                "  authorization of \(authorization.user) for \(authorization.principal): \(authorization.status); secrets: \(CatalogView.describe(authorization.secrets))"
            )
        }
    }
}
