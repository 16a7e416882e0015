import ArgumentParser
import Foundation
import SigilCore
import SigilStore

struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "API keys for applications calling the service (Authorization: Bearer).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create an API key for a user and print it once: it is stored only as a hash.",
            discussion: "The key is the only line on standard output; what it is follows on standard error."
        )

        @OptionGroup var options: VaultOptions

        @Argument(help: "The user the key acts as.")
        var user: String

        @Option(help: "Days until the key expires (default: never).")
        var expires: Int?

        @Flag(help: "Print {id, user, key, expiresAt} as JSON.")
        var json = false

        func validate() throws {
            if let expires, !(1...3650).contains(expires) {
                throw ValidationError("--expires \(expires): expected 1 to 3650 days")
            }
        }

        func run() throws {
            let expiry = expires.map { Date().addingTimeInterval(TimeInterval($0) * 86400) }
            let (info, key) = try options.open().createAPIKey(for: user, expires: expiry)
            // The key is what the user asked to see, once.
            let text = key.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            if json {
                struct Created: Encodable {
                    var id: String
                    var user: String
                    var key: String
                    var expiresAt: Int64?
                }
                try Output.json(Created(id: info.id, user: info.user, key: text, expiresAt: info.expiresAt))
                return
            }
            print(text)
            Output.note(
                "API key \(info.id) for user \(info.user)"
                    + (info.expiresAt.map {
                        ", expires \(Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601))"
                    }
                        ?? ", does not expire") + ". It is shown once and stored only as a hash.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List API keys (ids, users, dates; never the keys).")

        @OptionGroup var options: VaultOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let keys = try options.open().apiKeys()
            if json {
                try Output.json(keys)
                return
            }
            let now = Int64(Date().timeIntervalSince1970)
            Output.table(
                [["ID", "USER", "CREATED", "EXPIRES", "STATE"]]
                    + keys.map { key in
                        let state =
                            key.revokedAt != nil
                            ? "revoked" : (key.expiresAt.map { $0 <= now } ?? false) ? "expired" : "active"
                        return [
                            key.id, key.user, key.createdAt,
                            key.expiresAt.map { Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601) }
                                ?? "never",
                            state,
                        ]
                    }, indent: "")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke an API key at once.")

        @OptionGroup var options: VaultOptions

        @Argument(help: "The key's id, as `sigil apikey list` shows it.")
        var id: String

        func run() throws {
            try options.open().revokeAPIKey(id)
            print("Revoked API key \(id).")
        }
    }
}
