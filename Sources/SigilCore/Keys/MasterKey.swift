internal import CSodium

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The 256-bit key at the top of the key hierarchy. It wraps the vault's data keys and its audit
/// key; it never seals a secret directly, so rotating it re-wraps a handful of keys, not every
/// secret.
///
/// It comes from a key file (32 raw bytes, mode 0600), from the environment (the same 32 bytes in
/// base64), or from a passphrase stretched with Argon2id (``KDFParameters``).
public struct MasterKey: Sendable {
    public static let byteCount = 32

    let bytes: SecretBytes

    public init(bytes: SecretBytes) throws(SigilError) {
        guard bytes.count == Self.byteCount else {
            throw SigilError(.invalidMasterKey, "a master key is \(Self.byteCount) bytes, this one is \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A fresh random key.
    public static func generate() -> MasterKey {
        // swiftlint:disable:next force_try
        try! MasterKey(bytes: .random(count: byteCount))
    }

    /// Reads a key file: a regular file of exactly 32 bytes that no other user may read or write.
    public static func read(keyFile path: String) throws(SigilError) -> MasterKey {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SigilError(.invalidMasterKey, "cannot read key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw SigilError(.invalidMasterKey, "key file \(path) is not a regular file")
        }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw SigilError(
                .invalidMasterKey,
                "key file \(path) is accessible to other users (mode \(String(mode, radix: 8).leftPadded(to: 4))); run: chmod 600 \(path)"
            )
        }
        let bytes = try SecretBytes.readAll(from: descriptor, named: "key file \(path)", maximumBytes: byteCount)
        guard bytes.count == byteCount else {
            throw SigilError(
                .invalidMasterKey, "key file \(path) holds \(bytes.count) bytes; a key file holds exactly \(byteCount)")
        }
        return try MasterKey(bytes: bytes)
    }

    /// Writes a new key file with mode 0600. Refuses to replace an existing file, and flushes the
    /// file to disk before returning: a vault must never outlive its key.
    public func write(toKeyFile path: String) throws(SigilError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "it already exists" : String(cString: strerror(errno))
            throw SigilError(.invalidMasterKey, "cannot create key file \(path): \(reason)")
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
        guard written == Self.byteCount, fsync(descriptor) == 0 else {
            unlink(path)
            throw SigilError(.invalidMasterKey, "cannot write key file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Decodes the base64 form (as `SIGIL_MASTER_KEY` carries it: `base64 -w0 < master.key`).
    public init(base64 encoded: SecretBytes) throws(SigilError) {
        Sodium.ensureInitialised()
        var decodedLength = 0
        var status: Int32 = -1
        let decoded = SecretBytes(count: Self.byteCount + 1) { output in
            status = encoded.withUnsafeBytes { input in
                input.withMemoryRebound(to: CChar.self) { text in
                    sodium_base642bin(
                        output.bindMemory(to: UInt8.self).baseAddress!, output.count,
                        text.baseAddress!, text.count, " \n\r\t", &decodedLength, nil,
                        sodium_base64_VARIANT_ORIGINAL
                    )
                }
            }
        }
        guard status == 0, decodedLength == Self.byteCount else {
            throw SigilError(
                .invalidMasterKey, "the master key in the environment is not the base64 form of \(Self.byteCount) bytes"
            )
        }
        try self.init(bytes: decoded.withUnsafeBytes { SecretBytes(copying: $0[0..<Self.byteCount]) })
    }

    /// Stretches a passphrase with Argon2id under the vault's stored parameters.
    public static func derive(passphrase: SecretBytes, parameters: KDFParameters) throws(SigilError) -> MasterKey {
        Sodium.ensureInitialised()
        guard !passphrase.isEmpty else {
            throw SigilError(.invalidMasterKey, "the passphrase is empty")
        }
        guard parameters.algorithm == KDFParameters.argon2id13, parameters.salt.count == Int(crypto_pwhash_saltbytes())
        else {
            throw SigilError(
                .invalidMasterKey,
                "the vault's key-derivation parameters are not Argon2id with a \(crypto_pwhash_saltbytes())-byte salt")
        }
        var status: Int32 = -1
        let key = SecretBytes(count: byteCount) { output in
            status = passphrase.withUnsafeBytes { phrase in
                crypto_pwhash(
                    output.bindMemory(to: UInt8.self).baseAddress!, UInt64(output.count),
                    phrase.bindMemory(to: CChar.self).baseAddress!, UInt64(phrase.count),
                    parameters.salt, parameters.opsLimit, Int(parameters.memLimitBytes),
                    crypto_pwhash_alg_argon2id13()
                )
            }
        }
        guard status == 0 else {
            throw SigilError(
                .invalidMasterKey,
                "Argon2id could not derive the key (out of memory for \(parameters.memLimitBytes >> 20) MiB?)")
        }
        return try MasterKey(bytes: key)
    }
}

/// Argon2id parameters of a passphrase-protected vault, stored (not secret) in the vault.
public struct KDFParameters: Sendable, Hashable, Codable {
    public static let argon2id13 = "argon2id13"

    public var algorithm: String
    public var salt: [UInt8]
    public var opsLimit: UInt64
    public var memLimitBytes: UInt64

    /// libsodium's profiles: `interactive` (2 passes, 64 MiB), `moderate` (3, 256 MiB, the
    /// default) and `sensitive` (4, 1 GiB).
    public enum Profile: String, Sendable, CaseIterable {
        case interactive, moderate, sensitive
    }

    public init(algorithm: String, salt: [UInt8], opsLimit: UInt64, memLimitBytes: UInt64) {
        self.algorithm = algorithm
        self.salt = salt
        self.opsLimit = opsLimit
        self.memLimitBytes = memLimitBytes
    }

    /// Fresh parameters with a random salt.
    public static func generate(profile: Profile = .moderate) -> KDFParameters {
        switch profile {
        case .interactive:
            generate(
                opsLimit: UInt64(crypto_pwhash_opslimit_interactive()),
                memLimitBytes: UInt64(crypto_pwhash_memlimit_interactive()))
        case .moderate:
            generate(
                opsLimit: UInt64(crypto_pwhash_opslimit_moderate()),
                memLimitBytes: UInt64(crypto_pwhash_memlimit_moderate()))
        case .sensitive:
            generate(
                opsLimit: UInt64(crypto_pwhash_opslimit_sensitive()),
                memLimitBytes: UInt64(crypto_pwhash_memlimit_sensitive()))
        }
    }

    /// Fresh parameters with explicit costs (tests use the minimum to stay fast).
    public static func generate(opsLimit: UInt64, memLimitBytes: UInt64) -> KDFParameters {
        Sodium.ensureInitialised()
        var salt = [UInt8](repeating: 0, count: Int(crypto_pwhash_saltbytes()))
        randombytes_buf(&salt, salt.count)
        return KDFParameters(algorithm: argon2id13, salt: salt, opsLimit: opsLimit, memLimitBytes: memLimitBytes)
    }

    /// The smallest costs libsodium accepts; for tests only.
    public static func minimumForTests() -> KDFParameters {
        generate(opsLimit: UInt64(crypto_pwhash_opslimit_min()), memLimitBytes: UInt64(crypto_pwhash_memlimit_min()))
    }
}

/// Where the master key comes from.
public enum MasterKeySource: Sendable {
    /// A key file of 32 raw bytes, mode 0600.
    case keyFile(path: String)
    /// A key given directly, e.g. decoded from `SIGIL_MASTER_KEY`.
    case key(MasterKey)
    /// A passphrase, stretched with the vault's Argon2id parameters.
    case passphrase(SecretBytes)

    /// How the vault records the kind of its master key.
    public var usesPassphrase: Bool {
        if case .passphrase = self { return true }
        return false
    }
}

/// `write(2)`, under a name that the `write(toKeyFile:)` method does not shadow.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
