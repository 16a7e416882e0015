import ArgumentParser
import SigilCore
import SigilStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the audit log.",
        subcommands: [List.self, Verify.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Print the newest audit entries, oldest first.")

        @OptionGroup var options: VaultOptions

        @Option(help: "How many entries.")
        var limit = 50

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let entries = try options.open().auditEntries(limit: limit)
            if json {
                try Output.json(entries)
                return
            }
            Output.table(entries.map { entry in
                let detail = entry.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                return ["\(entry.seq)", entry.at, entry.actor, entry.action, entry.target, detail]
            }, indent: "")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the audit chain: exits 1 when an entry was edited, removed or reordered.",
            discussion: "Record the printed head elsewhere: the chain cannot show the removal of its newest entries by itself."
        )

        @OptionGroup var options: VaultOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let result = try options.open().verifyAudit()
            if json {
                try Output.json(result)
            } else if result.valid {
                print("Audit chain intact: \(result.entries) entries; head \(result.headSeq) \(result.headMAC).")
            } else {
                print("Audit chain BROKEN (\(result.entries) entries):")
                for problem in result.problems { print("  \(problem)") }
            }
            if !result.valid { throw ExitCode.failure }
        }
    }
}
