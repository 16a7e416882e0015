import ArgumentParser
import Foundation
import SigilConfig
import SigilCore
import SigilStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the vault's configuration, without secrets, in the format apply reads.",
        discussion: "Applying the output to the same vault changes nothing."
    )

    @OptionGroup var options: VaultOptions

    @Option(
        name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Write JSON instead of YAML (also chosen by an output file name ending in .json).")
    var json = false

    func run() throws {
        let vault = try options.open()
        let asJSON = json || (output?.lowercased().hasSuffix(".json") ?? false)
        let text = try ConfigExport.text(of: try vault.catalog(), json: asJSON)
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                throw SigilError(.storage, "cannot write \(output)")
            }
        } else {
            print(text, terminator: "")
        }
    }
}
