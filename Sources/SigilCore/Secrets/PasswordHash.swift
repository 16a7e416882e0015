internal import CSodium

/// A password stored for checking only: libsodium's `crypto_pwhash_str` (Argon2id with a random
/// salt, its cost parameters in the string). Never reversible, never sealed.
///
/// Both calls are deliberately slow (tens of milliseconds, 64 MiB): run them off an event loop.
public enum PasswordHash {
    /// The hash string of `password`, with libsodium's interactive cost parameters.
    public static func hash(_ password: SecretBytes) throws(SigilError) -> String {
        Sodium.ensureInitialised()
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let status = password.withUnsafeBytes { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                var empty: CChar = 0
                return withUnsafePointer(to: &empty) { fallback in
                    crypto_pwhash_str(
                        &output, chars.baseAddress ?? fallback, UInt64(chars.count),
                        UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
                }
            }
        }
        guard status == 0 else {
            throw SigilError(.passwordHashFailed, "cannot hash the password: not enough memory for Argon2id")
        }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` matches `hash` (a string made by ``hash(_:)``). A malformed hash never
    /// matches.
    public static func verify(_ password: SecretBytes, against hash: String) -> Bool {
        Sodium.ensureInitialised()
        guard hash.utf8.count < Int(crypto_pwhash_STRBYTES) else { return false }
        return password.withUnsafeBytes { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                var empty: CChar = 0
                return withUnsafePointer(to: &empty) { fallback in
                    crypto_pwhash_str_verify(hash, chars.baseAddress ?? fallback, UInt64(chars.count)) == 0
                }
            }
        }
    }

    /// Whether `hash` was made with weaker parameters than ``hash(_:)`` uses now.
    public static func needsRehash(_ hash: String) -> Bool {
        crypto_pwhash_str_needs_rehash(
            hash, UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), Int(crypto_pwhash_MEMLIMIT_INTERACTIVE)) != 0
    }
}

extension SigilError.Code {
    /// libsodium could not hash a password (it could not allocate Argon2id's memory).
    public static let passwordHashFailed = Self("password-hash-failed")
}
