public import ArgumentParser
import Foundation
import SigilCore
import SigilStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a vault and its master key.",
        discussion: """
            With a key file (the default), a new random 32-byte key is written with mode 0600, unless \
            the key file already exists, in which case that key is used. With SIGIL_PASSPHRASE or \
            --passphrase-stdin, the key is derived from the passphrase with Argon2id. With \
            SIGIL_MASTER_KEY, that key is used and nothing is written. Keep the key apart from the \
            vault and its backups: without it the vault cannot be opened.
            """
    )

    @OptionGroup var options: VaultOptions

    @Option(help: "Argon2id cost for a passphrase: interactive, moderate or sensitive.")
    var kdfProfile: KDFParameters.Profile = .moderate

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let profile = kdfProfile
        let path = options.vaultPath
        try FileSystem.makeParentDirectory(of: path)
        var source = try options.keySource()
        var createdKeyFile: String?
        if case .keyFile(let keyPath) = source, !FileManager.default.fileExists(atPath: keyPath) {
            try FileSystem.makeParentDirectory(of: keyPath)
            let key = MasterKey.generate()
            try key.write(toKeyFile: keyPath)
            createdKeyFile = keyPath
            source = .key(key)
        }
        let vault: Vault
        do {
            vault = try Vault.create(
                at: path, key: source, kdfParameters: .generate(profile: profile), actor: VaultOptions.actor)
        } catch {
            if let createdKeyFile { try? FileManager.default.removeItem(atPath: createdKeyFile) }
            throw error
        }
        let status = try vault.keyStatus()
        let keyDescription: String
        switch (source, createdKeyFile) {
        case (_, let created?): keyDescription = "new key file \(created) (mode 0600)"
        case (.keyFile(let keyPath), nil): keyDescription = "existing key file \(keyPath)"
        case (.passphrase, _): keyDescription = "passphrase (Argon2id, \(profile.rawValue))"
        default: keyDescription = "key from SIGIL_MASTER_KEY"
        }
        if json {
            try Output.json(["vault": path, "vaultID": status.vaultID, "masterKey": keyDescription])
        } else {
            print("Created vault \(path) (id \(status.vaultID)), protected by \(keyDescription).")
            if createdKeyFile != nil {
                print("Back up the key file apart from the vault: without it the vault cannot be opened.")
            }
        }
    }
}

enum FileSystem {
    /// Creates the folder that will hold `path`, private to this user, when it does not exist.
    static func makeParentDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}

extension KDFParameters.Profile: ExpressibleByArgument {}
