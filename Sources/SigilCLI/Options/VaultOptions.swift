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
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The vault file.", discussion: "Default: SIGIL_VAULT, else ~/.local/share/sigil/vault.db.",
            valueName: "path"))
    var vault: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The master key file (32 bytes, mode 0600).",
            discussion: "Default: SIGIL_KEY_FILE, else ~/.config/sigil/master.key.", valueName: "path"))
    var keyFile: String?

    @Flag(name: .long, help: "Read the vault's passphrase from standard input (or set SIGIL_PASSPHRASE).")
    var passphraseStdin = false

    public init() {}

    var vaultPath: String {
        vault ?? Self.environment("SIGIL_VAULT") ?? Self.xdg("XDG_DATA_HOME", fallback: ".local/share")
            + "/sigil/vault.db"
    }

    var defaultKeyFile: String {
        Self.xdg("XDG_CONFIG_HOME", fallback: ".config") + "/sigil/master.key"
    }

    /// The key source, by the precedence above.
    func keySource(stdin: StandardInput = StandardInput()) throws -> MasterKeySource {
        if let keyFile { return .keyFile(path: keyFile) }
        if passphraseStdin { return .passphrase(try stdin.read(for: "the passphrase").removingOneTrailingNewline()) }
        if let path = Self.environment("SIGIL_KEY_FILE"), !path.isEmpty { return .keyFile(path: path) }
        if let key = SecretBytes.environment("SIGIL_MASTER_KEY"), !key.isEmpty {
            return .key(try MasterKey(base64: key))
        }
        if let passphrase = SecretBytes.environment("SIGIL_PASSPHRASE"), !passphrase.isEmpty {
            return .passphrase(passphrase)
        }
        return .keyFile(path: defaultKeyFile)
    }

    /// Opens the vault with the key source of these options.
    func open(stdin: StandardInput = StandardInput()) throws -> Vault {
        try open(with: try keySource(stdin: stdin))
    }

    /// Opens the vault with `source`, read once by the caller (a passphrase on standard input
    /// cannot be read twice).
    ///
    /// With a key file: a `sigil key rotate` writes the new key to `KEYFILE.next`, commits, then
    /// renames it over `KEYFILE`. A process that opens the vault between the commit and the rename
    /// (or after a rotation killed there) finds that `KEYFILE` no longer opens it: it then uses
    /// `KEYFILE.next` if that opens it, and reads `KEYFILE` once more in case the rename happened
    /// meanwhile. When no key operation holds the lock (the rotation was killed, not merely under
    /// way), it finishes the move itself and says so: a `KEYFILE` that no longer opens the vault must
    /// not be left beside a `.next` that looks stray.
    func open(with source: MasterKeySource) throws -> Vault {
        do {
            return try Vault.open(at: vaultPath, key: source, actor: Self.actor)
        } catch let error as SigilError where error.code == .wrongMasterKey {
            guard case .keyFile(let path) = source else { throw error }
            if access(path + ".next", F_OK) == 0,
                let vault = try? Vault.open(at: vaultPath, key: .keyFile(path: path + ".next"), actor: Self.actor)
            {
                _ = try? KeyOperationLock.withLock(vaultPath: vaultPath, timeout: 0) {
                    try KeyCommand.Rotate.settleInterruptedRotation(keyFile: path, options: self)
                }
                return vault
            }
            if let vault = try? Vault.open(at: vaultPath, key: source, actor: Self.actor) { return vault }
            throw error
        }
    }

    /// Runs the write `body` on `vault` (opened with `source`); when another process replaced the
    /// master key in between (`sigil key rotate` committed after this command opened the vault and a
    /// data key was added since), opens the vault again with the key file as it is now and runs
    /// `body` once more. The first attempt changed nothing. Only a key file can hold a new key; a
    /// passphrase or `SIGIL_MASTER_KEY` is the value given.
    func retryingAfterKeyRotation<T>(_ vault: Vault, source: MasterKeySource, _ body: (Vault) throws -> T) throws -> T {
        do {
            return try body(vault)
        } catch let error as SigilError where error.code == .masterKeyRotated {
            guard case .keyFile = source else { throw error }
            return try body(try open(with: source))
        }
    }

    /// Who the audit log names: SIGIL_ACTOR, else `cli:` and the login name.
    static var actor: String {
        if let actor = environment("SIGIL_ACTOR"), !actor.isEmpty { return actor }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return "cli:" + String(cString: name) }
        return "cli:uid-\(geteuid())"
    }

    /// A variable that holds no secret (a path, a name). Read with `getenv` alone: Foundation's
    /// `ProcessInfo.environment` would copy every variable, secrets included (`SIGIL_MASTER_KEY`,
    /// the ones `env:` references name), into Swift `String`s that are never wiped.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// `HOME`, else the password database's home folder (not `NSHomeDirectory`, which reads
    /// Foundation's copy of the whole environment).
    private static var home: String {
        if let home = environment("HOME"), !home.isEmpty { return home }
        if let entry = getpwuid(geteuid()), let directory = entry.pointee.pw_dir { return String(cString: directory) }
        return "/"
    }

    private static func xdg(_ variable: String, fallback: String) -> String {
        if let value = environment(variable), value.hasPrefix("/") { return value }
        return home + "/" + fallback
    }
}

/// Reads everything on standard input, rejecting a second reader: stdin can feed only one value.
final class StandardInput {
    private var claimedBy: String?

    func read(for purpose: String) throws -> SecretBytes {
        if let claimedBy {
            throw SigilError(
                .secretSourceUnreadable,
                "standard input is already used for \(claimedBy); it cannot also supply \(purpose)")
        }
        claimedBy = purpose
        return try SecretBytes.standardInput()
    }
}
