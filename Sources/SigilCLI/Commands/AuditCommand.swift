import ArgumentParser
import Foundation
import SigilCore
import SigilStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the audit log.",
        subcommands: [List.self, Verify.self, AcceptCatalog.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Print the newest audit entries, oldest first.")

        @OptionGroup var options: VaultOptions

        @Option(help: "How many entries.")
        var limit = 50

        @Option(help: "Only entries by this user or made acting as them (the service's use records).")
        var user: String?

        @Option(help: "Only entries about this named or external credential.")
        var credential: String?

        @Option(help: ArgumentHelp("Only entries at or after this instant (ISO 8601).", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Only entries before this instant (ISO 8601).", valueName: "time"))
        var until: String?

        @Option(help: "Only this action (use.sign) or family of actions (use).")
        var action: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            func instant(_ text: String?, _ option: String) throws -> Date? {
                guard let text else { return nil }
                guard let date = try? Date(text, strategy: .iso8601) else {
                    throw ValidationError(
                        "--\(option) \(text): expected an ISO 8601 instant such as 2026-12-01T00:00:00Z")
                }
                return date
            }
            let filter = AuditFilter(
                user: user, credential: credential, since: try instant(since, "since"),
                until: try instant(until, "until"), action: action)
            let entries = try options.open().auditEntries(limit: limit, matching: filter)
            if json {
                try Output.json(entries)
                return
            }
            Output.table(
                entries.map { entry in
                    let detail = entry.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                        separator: " ")
                    return ["\(entry.seq)", entry.at, entry.actor, entry.action, entry.target, detail]
                }, indent: "")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract:
                "Check the audit chain and the catalog: exits 1 when an entry was edited, removed or reordered, or a catalog row was changed, added or removed without the vault's key.",
            discussion:
                "Record the printed head elsewhere: the chain cannot show the removal of its newest entries by itself."
        )

        @OptionGroup var options: VaultOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let result = try options.open().verifyAudit()
            if json {
                try Output.json(result)
            } else {
                if result.chainIntact {
                    print("Audit chain intact: \(result.entries) entries; head \(result.headSeq) \(result.headMAC).")
                } else {
                    print("Audit chain BROKEN (\(result.entries) entries):")
                    for problem in result.problems { print("  \(problem)") }
                }
                if result.catalogProblems.isEmpty {
                    print(
                        "Catalog authentic: every credential, principal, grant, user, group, authorization, secret stage, role, password, API key and service setting is as Sigil wrote it."
                    )
                } else {
                    print("Catalog CHANGED WITHOUT THE KEY (Sigil refuses to sign until it is repaired):")
                    for problem in result.catalogProblems { print("  \(problem)") }
                    print(
                        "Repair: re-apply the affected items from your configuration (`sigil apply`), delete them, or restore the vault from a backup; once the catalog is as you want it, `sigil audit accept-catalog` authenticates it as it stands."
                    )
                }
            }
            if !result.valid { throw ExitCode.failure }
        }
    }

    struct AcceptCatalog: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept-catalog",
            abstract: "Authenticate the catalog as it is now, after checking what `sigil audit verify` reported.",
            discussion: """
                Every row the catalog check flags (changed, added or removed without the vault's key) \
                becomes authentic: only do this once you have checked that the vault says what you want, \
                for example after restoring a table from a backup. The audit log records what was accepted. \
                Needs --yes.
                """
        )

        @OptionGroup var options: VaultOptions

        @Flag(help: "Confirm that the catalog, as it is now, is to be trusted.")
        var yes = false

        func run() throws {
            let vault = try options.open()
            guard yes else {
                let problems = try vault.verifyCatalog()
                if problems.isEmpty {
                    print("The catalog authenticates; nothing to accept.")
                    return
                }
                print("These would be accepted as authentic:")
                for problem in problems { print("  \(problem)") }
                throw ValidationError("give --yes to accept them")
            }
            let accepted = try vault.acceptCatalog().accepted
            print(
                accepted.isEmpty
                    ? "The catalog authenticated already; its MACs were computed again."
                    : "Accepted \(accepted.count) change\(accepted.count == 1 ? "" : "s") made without the key:")
            for problem in accepted { print("  \(problem)") }
        }
    }
}
