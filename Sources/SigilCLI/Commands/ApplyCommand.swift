import ArgumentParser
import Foundation
import SigilConfig
import SigilCore
import SigilModel
import SigilOperations
import SigilSigning
import SigilStore

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create or update credentials, principals, users and grants from a file, in one transaction.",
        discussion: """
            The file is YAML, or JSON when its name ends in .json. Secret values are references: \
            env:NAME, file:PATH (relative to the file) or stdin. Items in the file replace the stored \
            items of the same name (an external credential's principals merge by name); nothing is \
            deleted; secrets the file does not mention keep their values. All or nothing: on any \
            error nothing is written. Applying the same file again changes nothing.
            """
    )

    @OptionGroup var options: VaultOptions

    @Option(
        name: .shortAndLong, help: ArgumentHelp("The configuration file, or - for standard input.", valueName: "file"))
    var file: String

    @Flag(help: "Show what would change without writing anything.")
    var dryRun = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let stdin = StandardInput()
        let text: String
        let baseDirectory: String
        if file == "-" {
            let bytes = try stdin.read(for: "the configuration file")
            text = bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            baseDirectory = FileManager.default.currentDirectoryPath
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SigilError(.invalidConfiguration, "cannot read \(file): no such file, or not readable")
            }
            text = String(decoding: data, as: UTF8.self)
            baseDirectory = (file as NSString).deletingLastPathComponent
        }
        let config = try ConfigFile(text: text, fileName: file == "-" ? "<stdin>" : file, baseDirectory: baseDirectory)
        let source = try options.keySource(stdin: stdin)
        let vault = try options.open(with: source)
        let request = try config.resolve { () throws(SigilError) in
            do { return try stdin.read(for: "a secret of \(config.fileName)") } catch let error as SigilError {
                throw error
            } catch {
                throw SigilError(.secretSourceUnreadable, "cannot read standard input")
            }
        }
        let report = try options.retryingAfterKeyRotation(vault, source: source) { vault in
            try VaultOperations.apply(config, resolved: request, to: vault, dryRun: dryRun)
        }
        if json {
            try Output.json(report)
            return
        }
        for change in report.changes where change.action != .unchanged {
            let mark = change.action == .create ? "+" : "~"
            let fields = change.fields.isEmpty ? "" : " (\(change.fields.joined(separator: ", ")))"
            print("\(mark) \(change.item)\(fields)")
        }
        let created = report.changes.filter { $0.action == .create }.count
        let updated = report.changes.filter { $0.action == .update }.count
        let unchanged = report.changes.filter { $0.action == .unchanged }.count
        if dryRun {
            print("Dry run, nothing written: \(created) to create, \(updated) to update, \(unchanged) unchanged.")
        } else {
            print("Applied \(config.fileName): \(created) created, \(updated) updated, \(unchanged) unchanged.")
        }
    }
}
