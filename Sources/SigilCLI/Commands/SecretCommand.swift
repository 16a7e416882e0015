import ArgumentParser
import Foundation
import SigilCore
import SigilModel
import SigilOperations
import SigilSigning
import SigilStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Manage secret values.",
        subcommands: [Set.self]
    )

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Store a new version of a secret, reading the value from standard input.",
            discussion: """
                The value is read from standard input (one trailing newline removed); at a terminal it \
                is asked for without echo. It is never taken from the command line, where other users \
                could see it. OWNER is EC/PRINCIPAL, or named-credential:NAME for a client identity's \
                private key; with --user, the secret belongs to that user's authorization of a per-user \
                principal. Setting the current stage moves the old value to previous.
                """
        )

        @OptionGroup var options: VaultOptions

        @Argument(help: "EC/PRINCIPAL or named-credential:NAME.")
        var owner: String

        @Argument(help: "The secret's field name, e.g. apiKey or password.")
        var field: String

        @Option(help: "The user whose authorization of a per-user principal holds the secret.")
        var user: String?

        @Option(help: "current (used by requests) or pending (staged for a rotation).")
        var stage: String = SecretStage.current.rawValue

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let target = try SecretTarget(owner: parsedOwner(), field: field)
            guard let stage = SecretStage(rawValue: stage), stage != .previous else {
                throw ValidationError("--stage must be current or pending")
            }
            let stdin = StandardInput()
            let source = try options.keySource(stdin: stdin)
            let vault = try options.open(with: source)
            let value = try SecretBytes.prompted("Value for \(target)", purpose: "the value of \(target)", stdin: stdin)
            let version = try options.retryingAfterKeyRotation(vault, source: source) { vault in
                try VaultOperations.setSecret(target, value: value, stage: stage, in: vault)
            }
            if json {
                try Output.json(["target": target.description, "version": "\(version)", "stage": stage.rawValue])
            } else {
                print("Stored \(target): version \(version), \(stage).")
            }
        }

        private func parsedOwner() throws -> SecretOwner {
            if owner.hasPrefix("named-credential:"), user != nil {
                throw ValidationError("--user applies to per-user principals, not named credentials")
            }
            guard let owner = SecretOwner(parsing: owner, user: user) else {
                throw ValidationError(
                    "OWNER must be EC/PRINCIPAL or named-credential:NAME, not \(owner.sanitizedForMessage)")
            }
            return owner
        }
    }
}

extension SecretBytes {
    /// A secret from standard input (one trailing newline removed); at a terminal, asked for with
    /// `prompt` and read without echo. Never from the command line, where other users could see it.
    static func prompted(_ prompt: String, purpose: String, stdin: StandardInput) throws -> SecretBytes {
        guard isatty(STDIN_FILENO) == 1 else {
            return try stdin.read(for: purpose).removingOneTrailingNewline()
        }
        FileHandle.standardError.write(Data("\(prompt) (not echoed): ".utf8))
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return try SecretBytes.readLine(from: STDIN_FILENO)
    }

    /// One line from a terminal, without its line ending, read byte by byte into locked memory.
    static func readLine(from descriptor: Int32, maximumBytes: Int = 65536) throws -> SecretBytes {
        var length = 0
        let buffer = SecretBytes(count: maximumBytes) { _ in }
        try buffer.withUnsafeBytes { bytes in
            let base = UnsafeMutableRawPointer(mutating: bytes.baseAddress!)
            while length < maximumBytes {
                let count = read(descriptor, base + length, 1)
                if count < 0, errno == EINTR { continue }
                if count <= 0 || bytes[length] == 0x0A { break }
                length += 1
            }
            if length == maximumBytes {
                throw SigilError(.secretSourceUnreadable, "the value is longer than \(maximumBytes) bytes")
            }
        }
        return buffer.withUnsafeBytes { SecretBytes(copying: $0[0..<length]) }.removingOneTrailingNewline()
    }
}
