import Foundation
import SigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a vault is: a file (SQLite, the embedded default) or a PostgreSQL database named by a
/// `postgres://` or `postgresql://` URL (several replicas sharing one vault). The one place that
/// tells them apart; it picks the ``SQLStore`` and nothing above the store asks again.
enum VaultLocation {
    case file(String)
    case postgres(PostgresURL)

    init(_ location: String) throws {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            self = .postgres(try PostgresURL(location))
        } else {
            self = .file(location)
        }
    }

    /// The store of a new vault: a new file with mode 0600 (private from its first byte; SQLite
    /// gives its -wal and -shm files the same mode), or a database that holds no vault.
    func create() throws -> any SQLStore {
        switch self {
        case .file(let path):
            try createEmptyFile(path)
            do {
                return try SQLiteStore(path: path)
            } catch {
                unlink(path)
                throw error
            }
        case .postgres(let url):
            let store = try PostgresStore(url: url)
            let exists = try store.read { db in try db.tableExists(store.migrationsTable) }
            if exists {
                throw SigilError(
                    .vaultExists, "\(store.location) already holds a vault; Sigil will not overwrite it")
            }
            return store
        }
    }

    /// The store of an existing vault.
    func open() throws -> any SQLStore {
        switch self {
        case .file(let path):
            guard access(path, F_OK) == 0 else {
                throw SigilError(.notAVault, "no vault at \(path); create one with `sigil init`")
            }
            return try SQLiteStore(path: path)
        case .postgres(let url):
            return try PostgresStore(url: url)
        }
    }

    /// Removes what a failed `create` left: the file, or the tables it made.
    func removeHalfMade(_ store: any SQLStore) {
        switch self {
        case .file(let path):
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        case .postgres:
            (store as? PostgresStore)?.dropEverything()
        }
    }
}

/// Creates an empty file with mode 0600, failing if anything exists at `path`.
private func createEmptyFile(_ path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
        if errno == EEXIST {
            throw SigilError(.vaultExists, "a file already exists at \(path); Sigil will not overwrite it")
        }
        throw SigilError(.storage, "cannot create vault \(path): \(String(cString: strerror(errno)))")
    }
    close(descriptor)
}
