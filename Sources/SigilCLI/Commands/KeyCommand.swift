import ArgumentParser
import Foundation
import SigilCore
import SigilStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Show and rotate the vault's keys.",
        subcommands: [Status.self, Rotate.self, RotateDataKey.self]
    )

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show the vault's keys (ids, states, dates; never key material).")

        @OptionGroup var options: VaultOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let status = try options.open().keyStatus()
            if json {
                try Output.json(status)
                return
            }
            print(
                "Vault \(status.vaultID), schema version \(status.schemaVersion), master key: \(status.masterKeyKind)")
            Output.table(
                status.keys.map {
                    [
                        "key \($0.id)", $0.purpose, $0.state, "created \($0.createdAt)", "wrapped \($0.wrappedAt)",
                        $0.purpose == "data" ? "\($0.secretCount) secrets" : "",
                    ]
                })
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract:
                "Replace the master key, re-wrapping the data keys in one transaction (online: other processes keep working).",
            discussion: """
                With a key file and no option, a new key is written to KEYFILE.next, the data keys are \
                re-wrapped under it, and KEYFILE.next replaces KEYFILE. --new-key-file writes the new key \
                elsewhere (and leaves the old file for you to destroy). --new-passphrase-stdin (or \
                SIGIL_NEW_PASSPHRASE) protects the vault with a passphrase from now on.
                """
        )

        @OptionGroup var options: VaultOptions

        @Option(help: ArgumentHelp("Write the new key to this new file.", valueName: "path"))
        var newKeyFile: String?

        @Flag(help: "Read the new passphrase from standard input.")
        var newPassphraseStdin = false

        @Option(help: "Argon2id cost for a new passphrase: interactive, moderate or sensitive.")
        var kdfProfile: KDFParameters.Profile = .moderate

        func run() throws {
            // Held from before the key file is read until the new key file is in place.
            try KeyOperationLock.withLock(vaultPath: options.vaultPath) { try rotateHoldingLock() }
        }

        private func rotateHoldingLock() throws {
            let profile = kdfProfile
            let stdin = StandardInput()
            let current = try options.keySource(stdin: stdin)
            if case .keyFile(let keyPath) = current {
                try Self.settleInterruptedRotation(keyFile: keyPath, options: options)
            }
            let vault = try options.open(with: current)
            if newPassphraseStdin || SecretBytes.environment("SIGIL_NEW_PASSPHRASE") != nil {
                let passphrase =
                    newPassphraseStdin
                    ? try stdin.read(for: "the new passphrase").removingOneTrailingNewline()
                    : SecretBytes.environment("SIGIL_NEW_PASSPHRASE")!
                _ = try vault.rotateMasterKey(to: .passphrase(passphrase), kdfParameters: .generate(profile: profile))
                print(
                    "Rotated the master key of \(vault.path): now protected by a passphrase (Argon2id, \(profile.rawValue))."
                )
                return
            }
            if let newKeyFile {
                try FileSystem.makeParentDirectory(of: newKeyFile)
                try rotate(vault, toNewKeyFile: newKeyFile)
                print(
                    "Rotated the master key of \(vault.path): the new key is in \(newKeyFile). Destroy the old key once nothing uses it."
                )
                return
            }
            guard case .keyFile(let keyPath) = current else {
                throw ValidationError(
                    "this vault's key does not come from a key file; give --new-key-file PATH or --new-passphrase-stdin"
                )
            }
            let next = keyPath + ".next"
            try rotate(vault, toNewKeyFile: next)
            // The vault now needs the new key: move it into place (an atomic rename).
            guard rename(next, keyPath) == 0 else {
                throw SigilError(
                    .invalidMasterKey,
                    "the master key was rotated but \(next) could not replace \(keyPath): \(String(cString: strerror(errno))); move it by hand"
                )
            }
            print("Rotated the master key of \(vault.path); \(keyPath) holds the new key.")
        }

        /// Settles a `KEYFILE.next` left by a rotation that was killed (the caller holds the lock, so
        /// no rotation is under way). The rotation wrote `.next`, then committed, then renamed it:
        /// - if `KEYFILE` still opens the vault, the rotation never committed and `.next` protects
        ///   nothing: it is removed;
        /// - if only `.next` opens it, the rotation committed: `.next` is moved over `KEYFILE`;
        /// - if neither does, nothing is touched and the error says so.
        static func settleInterruptedRotation(keyFile keyPath: String, options: VaultOptions) throws {
            let next = keyPath + ".next"
            guard access(next, F_OK) == 0 else { return }
            let vaultPath = options.vaultPath
            func opens(_ path: String) -> Bool {
                (try? Vault.open(at: vaultPath, key: .keyFile(path: path), actor: VaultOptions.actor)) != nil
            }
            if opens(keyPath) {
                guard unlink(next) == 0 else {
                    throw SigilError(
                        .invalidMasterKey,
                        "\(next) is left from an interrupted rotation that never took effect (\(keyPath) opens the vault), but it could not be removed: \(String(cString: strerror(errno)))"
                    )
                }
                Output.note(
                    "sigil: removed \(next): an interrupted `sigil key rotate` left it, and it never protected the vault (\(keyPath) opens it)"
                )
            } else if opens(next) {
                guard rename(next, keyPath) == 0 else {
                    throw SigilError(
                        .invalidMasterKey,
                        "an interrupted rotation left the vault's key in \(next), which could not replace \(keyPath): \(String(cString: strerror(errno))); move it by hand"
                    )
                }
                Output.note(
                    "sigil: finished an interrupted `sigil key rotate`: \(next), which opens the vault, replaced \(keyPath)"
                )
            } else {
                throw SigilError(
                    .wrongMasterKey, "neither \(keyPath) nor \(next) opens vault \(vaultPath); nothing was changed")
            }
        }

        /// Writes a new random key to `path` (flushed, 0600) before re-wrapping, so the vault is
        /// never protected by a key that is not on disk; removes it if the rotation fails.
        private func rotate(_ vault: Vault, toNewKeyFile path: String) throws {
            let key = MasterKey.generate()
            try key.write(toKeyFile: path)
            do {
                _ = try vault.rotateMasterKey(to: .key(key))
            } catch {
                unlink(path)
                throw error
            }
        }
    }

    struct RotateDataKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-data-key",
            abstract:
                "Introduce a new data key and re-seal every secret under it, in small transactions; the vault stays usable throughout.",
            discussion: "When every secret is re-sealed, the old data keys are deleted."
        )

        @OptionGroup var options: VaultOptions

        @Option(help: "Secrets re-sealed per transaction.")
        var batch = 100

        @Flag(help: "Only re-seal secrets left under an older key (resume an interrupted rotation).")
        var resumeOnly = false

        func run() throws {
            guard batch > 0 else { throw ValidationError("--batch must be positive") }
            try KeyOperationLock.withLock(vaultPath: options.vaultPath) { try rotateHoldingLock() }
        }

        private func rotateHoldingLock() throws {
            let vault = try options.open()
            if !resumeOnly {
                let id = try vault.rotateDataKey()
                print("New data key \(id) is active.")
            }
            var total = 0
            var unreadable: [ResealProgress.Unreadable] = []
            while true {
                let progress = try vault.resealBatch(limit: batch, skipping: Set(unreadable.map(\.id)))
                total += progress.resealed
                unreadable += progress.unreadable
                if progress.remaining == 0 || (progress.resealed == 0 && progress.unreadable.isEmpty) { break }
            }
            guard unreadable.isEmpty else {
                print(
                    "Re-sealed \(total) secrets. \(unreadable.count) value\(unreadable.count == 1 ? "" : "s") did not open and stay under the older data key, which is kept:"
                )
                for value in unreadable { print("  \(value.location): \(value.reason)") }
                print(
                    "Set a new value for each (`sigil secret set`), or delete its owner, then run `sigil key rotate-data-key --resume-only` to destroy the older key."
                )
                throw ExitCode.failure
            }
            print("Re-sealed \(total) secrets; older data keys destroyed.")
        }
    }
}
