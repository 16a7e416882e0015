public import ArgumentParser
import Foundation

/// The `sigil` command: a thin front door over the vault. Every step is a call into SigilStore and
/// SigilConfig; nothing here seals, validates or writes on its own.
public struct SigilCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sigil",
        abstract: "An outbound credential vault: sealed secrets, named credentials, signed requests.",
        discussion: """
            Exit status: 0 on success, 1 on any failure (the message on standard error names the item \
            and the problem), 64 for a malformed command line.
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, ApplyCommand.self, ExportCommand.self, ListCommand.self, ShowCommand.self,
            SecretCommand.self, DeleteCommand.self, SignCommand.self, CallCommand.self, PresignCommand.self,
            TokenCommand.self, AuthCommand.self, AuditCommand.self, KeyCommand.self, ServeCommand.self,
            UserCommand.self, APIKeyCommand.self, RotateCommand.self, ExpiryCommand.self, VaultCommand.self,
        ]
    )

    public init() {}

    /// The most arguments a command line may have. ArgumentParser's parsing time grows with the
    /// square of their number (4,000 `-H` headers took 30 s), so a longer command line is refused
    /// before it is parsed.
    public static let maximumArguments = 512

    /// Parses and runs the command line, refusing one longer than ``maximumArguments``.
    public static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count <= maximumArguments else {
            FileHandle.standardError.write(
                Data(
                    "Error: the command line has \(arguments.count) arguments; the limit is \(maximumArguments)\n".utf8)
            )
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        await main(arguments)
    }
}
