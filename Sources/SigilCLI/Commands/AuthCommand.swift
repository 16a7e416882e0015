import ArgumentParser
import Foundation
import SigilStore

struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Credentials obtained from providers: OAuth 2.0 tokens, STS credentials.",
        subcommands: [StatusCommand.self]
    )

    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Per principal and user: kind, when obtained, when it expires, the last error. Never a value."
        )

        @OptionGroup var options: VaultOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let statuses = try options.open().issuedCredentialStatuses()
            if json {
                try Output.json(statuses)
                return
            }
            guard !statuses.isEmpty else {
                print("no credentials obtained from providers yet")
                return
            }
            let now = Int64(Date().timeIntervalSince1970)
            var rows = [["PRINCIPAL", "USER", "KIND", "OBTAINED", "EXPIRES", "LAST ERROR"]]
            for status in statuses {
                let expires = status.expiresAt.map { at in
                    Date(timeIntervalSince1970: TimeInterval(at)).formatted(.iso8601) + (at <= now ? " (expired)" : "")
                } ?? (status.obtainedAt == nil ? "-" : "no stated expiry")
                rows.append([status.principal, status.user ?? "-", status.kind, status.obtainedAt ?? "never", expires, status.lastError ?? "-"])
            }
            Output.table(rows, indent: "")
        }
    }
}
