import SigilCore
import Testing

@Suite("Sealing: XChaCha20-Poly1305 blobs bound to their place")
struct SealingTests {
    let vaultID = VaultID.random()
    let context = SealContext(purpose: "secret", components: ["principal", "7", "apiKey", "1"])
    let value = SecretBytes(utf8: "sk_live_0123456789")

    func keyring(_ id: VaultID? = nil, master: MasterKey = .generate()) throws -> Keyring {
        let keyring = Keyring(vaultID: id ?? vaultID, masterKey: master)
        let dataKey = Keyring.generateKey()
        let keyContext = SealContext(purpose: "wrapped-key", components: ["data", "1"])
        try keyring.install(id: 1, wrapped: keyring.wrap(dataKey, context: keyContext), context: keyContext)
        return keyring
    }

    @Test("a sealed value opens in its own place")
    func roundTrip() throws {
        let keyring = try keyring()
        let blob = try keyring.seal(value, keyID: 1, context: context)
        #expect(blob.keyID == 1)
        #expect(try keyring.open(SealedBlob(bytes: blob.bytes), context: context) == value)
        // A fresh nonce each time: the same value seals to different bytes.
        #expect(try keyring.seal(value, keyID: 1, context: context).bytes != blob.bytes)
    }

    @Test("the blob format: version, key id, nonce, ciphertext and tag")
    func format() throws {
        let blob = try keyring().seal(value, keyID: 1, context: context)
        let bytes = blob.bytes
        #expect(bytes[0] == 1)
        #expect(Array(bytes[1..<5]) == [0, 0, 0, 1])
        #expect(bytes.count == 1 + 4 + 24 + value.count + 16)
    }

    @Test("flipping any bit of the blob is detected", arguments: [0, 4, 5, 28, 29, 40, 45])
    func tamper(offset: Int) throws {
        let keyring = try keyring()
        var bytes = try keyring.seal(value, keyID: 1, context: context).bytes
        bytes[offset] ^= 0x01
        #expect(throws: SigilError.self) {
            try keyring.open(SealedBlob(bytes: bytes), context: context)
        }
    }

    @Test("a truncated blob is refused")
    func truncated() throws {
        let keyring = try keyring()
        let bytes = try keyring.seal(value, keyID: 1, context: context).bytes
        for length in [0, 10, 29, 44, bytes.count - 1] {
            #expect(throws: SigilError.self) {
                try keyring.open(SealedBlob(bytes: Array(bytes.prefix(length))), context: context)
            }
        }
    }

    @Test("a blob moved to another field, version, owner or vault does not open")
    func moved() throws {
        let keyring = try keyring()
        let blob = try keyring.seal(value, keyID: 1, context: context)
        let elsewhere = [
            SealContext(purpose: "secret", components: ["principal", "7", "apiKey", "2"]),
            SealContext(purpose: "secret", components: ["principal", "8", "apiKey", "1"]),
            SealContext(purpose: "secret", components: ["principal", "7", "password", "1"]),
            SealContext(purpose: "secret", components: ["authorization", "7", "apiKey", "1"]),
            // Length prefixes: the same characters split differently are another place.
            SealContext(purpose: "secret", components: ["principal7", "", "apiKey", "1"]),
        ]
        for other in elsewhere {
            #expect(throws: SigilError.self) { try keyring.open(blob, context: other) }
        }
        // The same master key and data key under another vault id.
        let master = MasterKey.generate()
        let first = Keyring(vaultID: vaultID, masterKey: master)
        let second = Keyring(vaultID: .random(), masterKey: master)
        let key = Keyring.generateKey()
        let keyContext = SealContext(purpose: "wrapped-key", components: ["data", "1"])
        try first.install(id: 1, wrapped: first.wrap(key, context: keyContext), context: keyContext)
        #expect(throws: SigilError.self) {
            try second.install(id: 1, wrapped: first.wrap(key, context: keyContext), context: keyContext)
        }
    }

    @Test("a wrong master key does not unwrap data keys, with a clear error")
    func wrongMasterKey() throws {
        let right = Keyring(vaultID: vaultID, masterKey: .generate())
        let keyContext = SealContext(purpose: "wrapped-key", components: ["data", "1"])
        let wrapped = right.wrap(Keyring.generateKey(), context: keyContext)
        let wrong = Keyring(vaultID: vaultID, masterKey: .generate())
        let error = #expect(throws: SigilError.self) { try wrong.install(id: 1, wrapped: wrapped, context: keyContext) }
        #expect(error?.code == .wrongMasterKey)
    }

    @Test("an unknown format version and an unloaded key are clear errors")
    func unknownVersionAndKey() throws {
        let keyring = try keyring()
        var bytes = try keyring.seal(value, keyID: 1, context: context).bytes
        bytes[0] = 2
        let versionError = #expect(throws: SigilError.self) { try SealedBlob(bytes: bytes) }
        #expect(versionError?.code == .malformedBlob)
        #expect(versionError?.reason.contains("format version 2") == true)
        let keyError = #expect(throws: SigilError.self) { try keyring.seal(value, keyID: 9, context: context) }
        #expect(keyError?.code == .unknownKey)
    }
}
