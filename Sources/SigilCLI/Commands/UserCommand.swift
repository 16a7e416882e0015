import ArgumentParser
import SigilCore
import SigilStore

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Sigil's own users' passwords for the service (users themselves come from the apply file).",
        subcommands: [SetPassword.self]
    )

    struct SetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's password for HTTP Basic on the service, reading it from standard input.",
            discussion: """
                At a terminal the password is asked for without echo; otherwise it is read from \
                standard input (one trailing newline removed). It is stored as an Argon2id hash \
                (libsodium), never sealed or reversible. At least 12 characters.
                """
        )

        @OptionGroup var options: VaultOptions

        @Argument(help: "The user, as named in the apply file's users:.")
        var name: String

        func run() throws {
            let stdin = StandardInput()
            let source = try options.keySource(stdin: stdin)
            let vault = try options.open(with: source)
            let password = try SecretBytes.prompted(
                "Password for user \(name)", purpose: "the password of user \(name)", stdin: stdin)
            try vault.setPassword(of: name, to: password)
            print("Set the password of user \(name).")
        }
    }
}
