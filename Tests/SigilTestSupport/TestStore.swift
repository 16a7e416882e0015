import Foundation
import GRDB
public import Testing

/// The stores a test that takes a vault runs on (`@Test(arguments: TestStore.all)`): SQLite always,
/// and PostgreSQL when `SIGIL_TEST_POSTGRES` names a server (`scripts/test` starts a private one
/// and sets it; `SIGIL_TEST_REQUIRE_POSTGRES=1` makes its absence a failure instead of a skip).
public enum TestStore: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    /// The server's URL (`postgres://user@host:port/database`), nil without one.
    public static let postgresServer: String? = {
        let value = ProcessInfo.processInfo.environment["SIGIL_TEST_POSTGRES"] ?? ""
        return value.isEmpty ? nil : value
    }()

    /// Every store this run can use.
    public static var all: [TestStore] {
        if postgresServer == nil {
            precondition(
                ProcessInfo.processInfo.environment["SIGIL_TEST_REQUIRE_POSTGRES"] != "1",
                "SIGIL_TEST_REQUIRE_POSTGRES=1 but SIGIL_TEST_POSTGRES names no server")
            return [.sqlite]
        }
        return allCases
    }

    /// Where a new vault goes: a file `name` in `directory`, or a new, empty database on the server.
    public func newVaultLocation(in directory: String, name: String = "vault.db") throws -> String {
        switch self {
        case .sqlite: return directory + "/" + name
        case .postgres: return try Self.createDatabase()
        }
    }

    /// A new database on the test server, by `createdb`; its URL.
    public static func createDatabase() throws -> String {
        guard let server = postgresServer, let components = URLComponents(string: server), let host = components.host
        else { throw TestStoreError("SIGIL_TEST_POSTGRES names no server") }
        let name = "sigil_t_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "createdb", "--host=\(host)", "--port=\(components.port ?? 5432)",
            "--username=\(components.user ?? "postgres")", name,
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestStoreError("createdb \(name) failed") }
        var url = components
        url.path = "/" + name
        return url.string!
    }
}

public struct TestStoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension TestStore {
    /// Runs `sql` on the vault at `location` behind Sigil's back, as someone with write access to
    /// its database could (tamper tests): through GRDB on a file, through `psql` on PostgreSQL.
    public static func raw(_ location: String, _ sql: String) throws {
        if location.hasPrefix("postgres://") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", location, "-c", sql]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestStoreError("psql failed on: \(sql)") }
        } else {
            try DatabaseQueue(path: location).write { try $0.execute(sql: sql) }
        }
    }

    /// The first column of the first row of `sql` on the vault at `location`, as text.
    public static func rawValue(_ location: String, _ sql: String) throws -> String? {
        if location.hasPrefix("postgres://") {
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["psql", "--no-psqlrc", "-At", "-v", "ON_ERROR_STOP=1", location, "-c", sql]
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestStoreError("psql failed on: \(sql)") }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        return try DatabaseQueue(path: location).read { try String.fetchOne($0, sql: sql) }
    }
}
