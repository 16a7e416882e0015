internal import CSodium

/// libsodium's XChaCha20-Poly1305 (IETF construction): 256-bit key, 192-bit random nonce (safe to
/// draw at random for any number of messages under one key), 128-bit tag.
enum XChaCha20Poly1305 {
    static let keyByteCount = Int(crypto_aead_xchacha20poly1305_ietf_keybytes())
    static let nonceByteCount = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
    static let tagByteCount = Int(crypto_aead_xchacha20poly1305_ietf_abytes())

    /// Encrypts `plaintext` and returns ciphertext followed by the tag.
    static func seal(
        _ plaintext: SecretBytes, key: SecretBytes, nonce: [UInt8], additionalData: [UInt8]
    ) -> [UInt8] {
        precondition(key.count == keyByteCount && nonce.count == nonceByteCount)
        var output = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var outputLength: UInt64 = 0
        let status = key.withUnsafeBytes { keyBytes in
            plaintext.withUnsafeBytes { message in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    &output, &outputLength,
                    message.bindMemory(to: UInt8.self).baseAddress!, UInt64(message.count),
                    additionalData, UInt64(additionalData.count),
                    nil, nonce, keyBytes.bindMemory(to: UInt8.self).baseAddress!
                )
            }
        }
        precondition(status == 0 && Int(outputLength) == output.count, "XChaCha20-Poly1305 encryption failed")
        return output
    }

    /// Decrypts and authenticates; `nil` when the tag does not verify.
    static func open(
        _ ciphertext: [UInt8], key: SecretBytes, nonce: [UInt8], additionalData: [UInt8]
    ) -> SecretBytes? {
        guard ciphertext.count >= tagByteCount, key.count == keyByteCount, nonce.count == nonceByteCount else {
            return nil
        }
        var status: Int32 = -1
        let plaintext = SecretBytes(count: ciphertext.count - tagByteCount) { output in
            var outputLength: UInt64 = 0
            status = key.withUnsafeBytes { keyBytes in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    output.bindMemory(to: UInt8.self).baseAddress!, &outputLength,
                    nil, ciphertext, UInt64(ciphertext.count),
                    additionalData, UInt64(additionalData.count),
                    nonce, keyBytes.bindMemory(to: UInt8.self).baseAddress!
                )
            }
        }
        return status == 0 ? plaintext : nil
    }

    static func randomNonce() -> [UInt8] {
        Sodium.ensureInitialised()
        var nonce = [UInt8](repeating: 0, count: nonceByteCount)
        randombytes_buf(&nonce, nonceByteCount)
        return nonce
    }
}
