public import ArgumentParser
import Foundation
import SigilCore
import SigilStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the vault is and how to unlock it; shared by every command that opens a vault.
///
/// The vault path is `--vault`, else `SIGIL_VAULT`, else `$XDG_DATA_HOME/sigil/vault.db`
/// (`~/.local/share/sigil/vault.db`). The master key comes from the first of: `--key-file`,
/// `--passphrase-stdin`, `SIGIL_KEY_FILE`, `SIGIL_MASTER_KEY` (base64), `SIGIL_PASSPHRASE`, and
/// the default key file `$XDG_CONFIG_HOME/sigil/master.key` (`~/.config/sigil/master.key`).
public struct VaultOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The vault file.", discussion: "Default: SIGIL_VAULT, else ~/.local/share/sigil/vault.db.", valueName: "path"))
    var vault: String?

    @Option(name: .long, help: ArgumentHelp("The master key file (32 bytes, mode 0600).", discussion: "Default: SIGIL_KEY_FILE, else ~/.config/sigil/master.key.", valueName: "path"))
    var keyFile: String?

    @Flag(name: .long, help: "Read the vault's passphrase from standard input (or set SIGIL_PASSPHRASE).")
    var passphraseStdin = false

    public init() {}

    var vaultPath: String {
        vault ?? ProcessInfo.processInfo.environment["SIGIL_VAULT"] ?? Self.xdg("XDG_DATA_HOME", fallback: ".local/share") + "/sigil/vault.db"
    }

    var defaultKeyFile: String {
        Self.xdg("XDG_CONFIG_HOME", fallback: ".config") + "/sigil/master.key"
    }

    /// The key source, by the precedence above.
    func keySource(stdin: StandardInput = StandardInput()) throws -> MasterKeySource {
        if let keyFile { return .keyFile(path: keyFile) }
        if passphraseStdin { return .passphrase(try stdin.read(for: "the passphrase").removingOneTrailingNewline()) }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["SIGIL_KEY_FILE"], !path.isEmpty { return .keyFile(path: path) }
        if let key = SecretBytes.environment("SIGIL_MASTER_KEY"), !key.isEmpty { return .key(try MasterKey(base64: key)) }
        if let passphrase = SecretBytes.environment("SIGIL_PASSPHRASE"), !passphrase.isEmpty { return .passphrase(passphrase) }
        return .keyFile(path: defaultKeyFile)
    }

    /// Opens the vault. A wrong key after an interrupted key-file rotation gets a hint.
    func open(stdin: StandardInput = StandardInput()) throws -> Vault {
        let source = try keySource(stdin: stdin)
        do {
            return try Vault.open(at: vaultPath, key: source, actor: Self.actor)
        } catch let error as SigilError where error.code == .wrongMasterKey {
            if case .keyFile(let path) = source, access(path + ".next", F_OK) == 0 {
                throw SigilError(error.code, error.reason + ". An interrupted `sigil key rotate` left \(path).next: if it opens the vault, move it over \(path).")
            }
            throw error
        }
    }

    /// Who the audit log names: SIGIL_ACTOR, else `cli:` and the login name.
    static var actor: String {
        if let actor = ProcessInfo.processInfo.environment["SIGIL_ACTOR"], !actor.isEmpty { return actor }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return "cli:" + String(cString: name) }
        return "cli:uid-\(geteuid())"
    }

    private static func xdg(_ variable: String, fallback: String) -> String {
        if let value = ProcessInfo.processInfo.environment[variable], value.hasPrefix("/") { return value }
        return NSHomeDirectory() + "/" + fallback
    }
}

/// Reads everything on standard input, rejecting a second reader: stdin can feed only one value.
final class StandardInput {
    private var claimedBy: String?

    func read(for purpose: String) throws -> SecretBytes {
        if let claimedBy {
            throw SigilError(.secretSourceUnreadable, "standard input is already used for \(claimedBy); it cannot also supply \(purpose)")
        }
        claimedBy = purpose
        return try SecretBytes.standardInput()
    }
}
