import ArgumentParser
import Foundation
import SigilCore
import SigilStore

/// `sigil vault copy --from LOCATION --to LOCATION`: a vault moved between stores.
struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Move a vault between stores (a file and PostgreSQL).",
        subcommands: [Copy.self]
    )

    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy a vault, as it is, to a new file or an empty PostgreSQL database.",
            discussion: """
                Every row moves byte for byte: sealed secrets, key wrappings, the audit chain and the \
                catalog's MACs. Nothing is unsealed and no master key is needed; the copy opens with \
                the source's key, and `sigil audit verify` passes on it. The destination must hold no \
                vault. A location is a file's path or postgres://USER@HOST:PORT/DATABASE; give a \
                database password in PGPASSWORD, not on the command line.
                """
        )

        @Option(help: ArgumentHelp("The vault to copy.", valueName: "location"))
        var from: String

        @Option(help: ArgumentHelp("Where the copy goes: a new file or an empty database.", valueName: "location"))
        var to: String

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let report = try VaultCopy.copy(from: from, to: to)
            if json {
                try Output.json(report)
                return
            }
            let rows = report.tables.reduce(0) { $0 + $1.rows }
            print(
                "Copied vault \(report.from) to \(report.to): \(rows) rows in \(report.tables.count) tables, schema version \(report.schemaVersion)."
            )
        }
    }
}
