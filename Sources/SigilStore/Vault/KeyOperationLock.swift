public import SigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serializes the vault's key operations (master-key and data-key rotation) across processes.
///
/// A rotation is more than one transaction: a new key file is written before the re-wrapping
/// transaction and renamed after it, and a data-key rotation re-seals in many small transactions.
/// Two of them interleaved could wrap a new data key under a master key that the other had just
/// replaced, so each holds this lock from before it reads the master key until it is done. The lock
/// is `flock(2)` on `VAULT-keylock` beside the vault (mode 0600): the kernel releases it when its
/// holder exits, even by `kill -9`, so a crash never leaves it held. (The vault file itself is not
/// used: SQLite's POSIX locks on it are dropped when any descriptor of that file is closed.)
///
/// On PostgreSQL the lock is a session-level advisory lock held on a connection of its own for the
/// same time; the server releases it when that connection ends, so a killed holder frees it too.
///
/// The vault checks inside each key transaction that its master key still opens the stored
/// wrappings (see ``Vault/rotateMasterKey(to:kdfParameters:)``), so a library caller that skips
/// this lock gets a clear error instead of a broken vault.
public enum KeyOperationLock {
    /// The lock file of the vault at `vaultPath`.
    public static func path(forVault vaultPath: String) -> String { vaultPath + "-keylock" }

    /// Runs `body` holding the key-operation lock of the vault at `vaultPath`, waiting up to
    /// `timeout` seconds for another key operation to finish.
    public static func withLock<T>(vaultPath: String, timeout: Double = 120, _ body: () throws -> T) throws -> T {
        if case .postgres(let url) = try VaultLocation(vaultPath) {
            return try PostgresStore(url: url).withSessionLock(
                PostgresStore.keyOperationLockKey, timeout: timeout,
                busy: SigilError(
                    .keyOperationInProgress,
                    "another key operation on vault \(url.redacted) has held its lock for over \(Int(timeout)) s; try again when it has finished"
                ), body)
        }
        let lockPath = path(forVault: vaultPath)
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SigilError(
                .storage, "cannot open the key-operation lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var waited = 0.0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw SigilError(
                    .storage, "cannot take the key-operation lock \(lockPath): \(String(cString: strerror(errno)))")
            }
            guard waited < timeout else {
                throw SigilError(
                    .keyOperationInProgress,
                    "another key operation on vault \(vaultPath) has held \(lockPath) for over \(Int(timeout)) s; try again when it has finished"
                )
            }
            usleep(50_000)
            waited += 0.05
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}

extension SigilError.Code {
    /// Another process is rotating the vault's keys.
    public static let keyOperationInProgress = Self("key-operation-in-progress")
    /// The master key this handle holds no longer opens the vault's keys: another process rotated it.
    public static let masterKeyRotated = Self("master-key-rotated")
}
