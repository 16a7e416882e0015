import Synchronization

/// The unsealed keys of one open vault: its master key and the data and audit keys that the master
/// key unwrapped. Shared by every task of a process; its cache of unwrapped keys is guarded by a
/// mutex, and keys are immutable once installed.
///
/// Key ids are the `id`s of the vault's wrapped keys; id `0` means the master key itself and is used
/// only to wrap other keys.
public final class Keyring: Sendable {
    public static let masterKeyID: UInt32 = 0

    public let vaultID: VaultID
    private let masterKey: MasterKey
    private let keys = Mutex<[UInt32: SecretBytes]>([:])

    public init(vaultID: VaultID, masterKey: MasterKey) {
        self.vaultID = vaultID
        self.masterKey = masterKey
    }

    // MARK: Sealing values under a loaded key

    /// Seals `value` under loaded key `keyID` with a fresh random nonce.
    public func seal(_ value: SecretBytes, keyID: UInt32, context: SealContext) throws(SigilError) -> SealedBlob {
        try seal(value, keyID: keyID, key: key(id: keyID), context: context)
    }

    /// Opens `blob` with the key its header names. Fails when the key is not loaded, and when the
    /// blob was tampered with, truncated, sealed under another key, or belongs to another place.
    public func open(_ blob: SealedBlob, context: SealContext) throws(SigilError) -> SecretBytes {
        try open(blob, key: key(id: blob.keyID), context: context)
    }

    /// Whether key `id` is unwrapped and loaded.
    public func hasKey(id: UInt32) -> Bool {
        keys.withLock { $0[id] != nil }
    }

    /// The raw bytes of loaded key `id`, for a MAC key (the audit chain).
    public func key(id: UInt32) throws(SigilError) -> SecretBytes {
        guard let key = keys.withLock({ $0[id] }) else {
            throw SigilError(
                .unknownKey, "key \(id) of vault \(vaultID) is not loaded; it may have been added by another process")
        }
        return key
    }

    // MARK: Wrapping keys under the master key

    /// Wraps a new key under the master key.
    public func wrap(_ key: SecretBytes, context: SealContext) -> SealedBlob {
        seal(key, keyID: Self.masterKeyID, key: masterKey.bytes, context: context)
    }

    /// Unwraps key `id` with the master key and loads it.
    public func install(id: UInt32, wrapped: SealedBlob, context: SealContext) throws(SigilError) {
        guard wrapped.keyID == Self.masterKeyID else {
            throw SigilError(.malformedBlob, "wrapped key \(id) names key \(wrapped.keyID) instead of the master key")
        }
        let key: SecretBytes
        do {
            key = try open(wrapped, key: masterKey.bytes, context: context)
        } catch {
            throw SigilError(
                .wrongMasterKey,
                "the master key does not open key \(id) of vault \(vaultID): wrong key, or the vault was tampered with")
        }
        keys.withLock { $0[id] = key }
    }

    /// Whether the master key opens `wrapped` (a key's wrapping as stored now), without loading it:
    /// how a key operation checks, inside its transaction, that no other process has replaced the
    /// master key since this keyring was made.
    public func masterKeyOpens(_ wrapped: SealedBlob, context: SealContext) -> Bool {
        guard wrapped.keyID == Self.masterKeyID else { return false }
        return (try? open(wrapped, key: masterKey.bytes, context: context)) != nil
    }

    /// Generates a key suitable for sealing.
    public static func generateKey() -> SecretBytes {
        .random(count: XChaCha20Poly1305.keyByteCount)
    }

    /// A keyring for the same vault under `newMasterKey`, holding the same loaded keys.
    public func replacingMasterKey(with newMasterKey: MasterKey) -> Keyring {
        let keyring = Keyring(vaultID: vaultID, masterKey: newMasterKey)
        let loaded = keys.withLock { $0 }
        keyring.keys.withLock { $0 = loaded }
        return keyring
    }

    // MARK: The one place that calls the AEAD

    private func seal(_ value: SecretBytes, keyID: UInt32, key: SecretBytes, context: SealContext) -> SealedBlob {
        let nonce = XChaCha20Poly1305.randomNonce()
        let unsealed = SealedBlob(keyID: keyID, nonce: nonce, ciphertext: [])
        let additionalData = context.additionalData(vaultID: vaultID, header: unsealed.header)
        let ciphertext = XChaCha20Poly1305.seal(value, key: key, nonce: nonce, additionalData: additionalData)
        return SealedBlob(keyID: keyID, nonce: nonce, ciphertext: ciphertext)
    }

    private func open(_ blob: SealedBlob, key: SecretBytes, context: SealContext) throws(SigilError) -> SecretBytes {
        let additionalData = context.additionalData(vaultID: vaultID, header: blob.header)
        guard
            let value = XChaCha20Poly1305.open(
                blob.ciphertext, key: key, nonce: blob.nonce, additionalData: additionalData)
        else {
            throw SigilError(
                .blobAuthenticationFailed,
                "sealed value \(context) does not authenticate: it was altered, truncated, moved from another place, or sealed under another key"
            )
        }
        return value
    }
}
