import Foundation
import SigilCore
import Testing

@Suite("Master keys: key files, environment, passphrases")
struct MasterKeyTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "sigil-key-tests-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    @Test("a key file is written 0600 and read back; never overwritten")
    func keyFile() throws {
        let path = directory + "/master.key"
        let key = MasterKey.generate()
        try key.write(toKeyFile: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        _ = try MasterKey.read(keyFile: path)
        let error = #expect(throws: SigilError.self) { try MasterKey.generate().write(toKeyFile: path) }
        #expect(error?.reason.contains("already exists") == true)
    }

    @Test("a key file readable by others is refused, with the fix")
    func permissions() throws {
        let path = directory + "/open.key"
        try MasterKey.generate().write(toKeyFile: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let error = #expect(throws: SigilError.self) { try MasterKey.read(keyFile: path) }
        #expect(error?.reason.contains("chmod 600") == true)
    }

    @Test("a key file of the wrong size, or missing, is refused")
    func wrongSize() throws {
        let path = directory + "/short.key"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(repeating: 1, count: 31), attributes: [.posixPermissions: 0o600])
        #expect(throws: SigilError.self) { try MasterKey.read(keyFile: path) }
        #expect(throws: SigilError.self) { try MasterKey.read(keyFile: directory + "/missing.key") }
    }

    @Test("the base64 form of a key decodes; anything else is refused")
    func base64() throws {
        _ = try MasterKey(base64: SecretBytes(utf8: Data(repeating: 7, count: 32).base64EncodedString()))
        for bad in [
            "", "not base64!", Data(repeating: 7, count: 31).base64EncodedString(),
            Data(repeating: 7, count: 33).base64EncodedString(),
        ] {
            #expect(throws: SigilError.self) { try MasterKey(base64: SecretBytes(utf8: bad)) }
        }
    }

    @Test("Argon2id: same passphrase and salt give the same key; another salt or passphrase another")
    func passphrase() throws {
        let parameters = KDFParameters.minimumForTests()
        let vaultID = VaultID.random()
        let context = SealContext(purpose: "wrapped-key", components: ["data", "1"])
        let first = Keyring(
            vaultID: vaultID,
            masterKey: try MasterKey.derive(passphrase: SecretBytes(utf8: "correct horse"), parameters: parameters))
        let wrapped = first.wrap(Keyring.generateKey(), context: context)
        let same = Keyring(
            vaultID: vaultID,
            masterKey: try MasterKey.derive(passphrase: SecretBytes(utf8: "correct horse"), parameters: parameters))
        try same.install(id: 1, wrapped: wrapped, context: context)
        let otherSalt = Keyring(
            vaultID: vaultID,
            masterKey: try MasterKey.derive(
                passphrase: SecretBytes(utf8: "correct horse"), parameters: .minimumForTests()))
        #expect(throws: SigilError.self) { try otherSalt.install(id: 1, wrapped: wrapped, context: context) }
        let otherPhrase = Keyring(
            vaultID: vaultID,
            masterKey: try MasterKey.derive(passphrase: SecretBytes(utf8: "correct horsf"), parameters: parameters))
        #expect(throws: SigilError.self) { try otherPhrase.install(id: 1, wrapped: wrapped, context: context) }
        #expect(throws: SigilError.self) {
            try MasterKey.derive(passphrase: SecretBytes(utf8: ""), parameters: parameters)
        }
    }
}
