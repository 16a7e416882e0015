import ArgumentParser
import Foundation
import SigilCore
import SigilModel
import SigilOperations
import SigilStore

/// `sigil expiry [--within 30d] [--json]`: the expiry calendar.
struct ExpiryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expiry",
        abstract: "What expires or falls due, soonest first: certificates, secrets by age, STS credentials.",
        discussion: """
            Client certificates (with the warnings `sigil show` gives), secrets against their rotation \
            policy's `every` (else 90 days), STS credentials with their lifetimes, and authorizations \
            that need their user again, from now to --within ahead (past ones included). The same \
            calendar as the service's /expiry page.
            """
    )

    @OptionGroup var options: VaultOptions

    @Option(help: "How far ahead to look: 30d, 12h... (default 30d).")
    var within = "30d"

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        guard let seconds = RotationPolicy.seconds(within), seconds > 0 else {
            throw ValidationError("--within \(within.sanitizedForMessage): expected a duration such as 30d or 12h")
        }
        let entries = try ExpiryCalendar.entries(in: try options.open(), within: TimeInterval(seconds))
        if json {
            try Output.json(entries)
            return
        }
        guard !entries.isEmpty else {
            print("Nothing expires or falls due within \(within).")
            return
        }
        for entry in entries {
            print("\(entry.when)  \(entry.what)  \(entry.item)  \(entry.warning)")
        }
    }
}
