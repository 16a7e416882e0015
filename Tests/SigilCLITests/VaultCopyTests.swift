import Foundation
import GRDB
import SigilTestSupport
import Testing

/// `sigil vault copy`: a populated vault moved from a file to PostgreSQL and back, as it is.
@Suite("sigil vault copy")
struct VaultCopyTests {
    let exampleEnvironment = ["BILLING_API_KEY": "example-billing-key", "AWS_KEY_ID": "AKIDEXAMPLE"]

    /// The requests every credential of the example signs, with the user each is signed for.
    let requests: [[String]] = [
        ["callout:Billing/invoices?limit=2", "-H", "Accept: application/json"],
        ["--as", "alice", "-d", "{\"a\":1}", "callout:Billing/x"],
        ["callout:S3/bucket/key.txt"],
        ["--as", "alice", "callout:Calendar/events"],
        ["--as", "bob", "-X", "PUT", "-d", "event", "callout:Calendar/events/1"],
    ]

    func signatures(_ cli: CLI, vault: String) throws -> [String] {
        try requests.map {
            try cli.ok(["sign", "--json", "--at", "2026-01-02T03:04:05Z"] + $0, environment: ["SIGIL_VAULT": vault])
                .stdout
        }
    }

    /// Every row of every table of a vault file, by table.
    func rows(_ path: String) throws -> [String: [Row]] {
        try DatabaseQueue(path: path).read { db in
            var tables: [String: [Row]] = [:]
            for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                tables[name] = try Row.fetchAll(db, sql: "SELECT * FROM \(name)")
            }
            return tables
        }
    }

    @Test(
        "a populated vault to PostgreSQL and back: the same rows byte for byte, audit verifies, every credential signs identically",
        arguments: TestStore.all.filter { $0 == .postgres })
    func roundTrip(store: TestStore) throws {
        let cli = CLI()
        let example = try cli.copyExample()
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", example], environment: exampleEnvironment)
        try cli.ok(["secret", "set", "Billing/billing-org", "apiKey"], stdin: "rotated-value\n")
        try cli.ok(["secret", "set", "Billing/billing-org", "apiKey", "--stage", "pending"], stdin: "next-value")
        for user in ["alice", "bob"] {
            try cli.ok(["secret", "set", "Calendar/per-user", "username", "--user", user], stdin: user)
            try cli.ok(["secret", "set", "Calendar/per-user", "password", "--user", user], stdin: "\(user)-password")
        }
        try cli.ok(["key", "rotate-data-key"])
        let original = try signatures(cli, vault: cli.vaultPath)

        let database = try store.newVaultLocation(in: cli.home)
        let copied = try cli.ok(["vault", "copy", "--from", cli.vaultPath, "--to", database, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(copied.stdout.utf8)) as! [String: Any]
        let tables = report["tables"] as! [[String: Any]]
        #expect(tables.contains { $0["name"] as? String == "secrets" && ($0["rows"] as! Int) >= 7 })
        #expect(try cli.ok(["audit", "verify"], environment: ["SIGIL_VAULT": database]).stdout.contains("intact"))
        #expect(try signatures(cli, vault: database) == original)

        // A copy writes only into an empty place: a second copy to the same database is refused and
        // leaves it as it was.
        let again = try cli.run(["vault", "copy", "--from", cli.vaultPath, "--to", database])
        #expect(again.status != 0 && again.stderr.contains("already"), "\(again.stderr)")
        #expect(try cli.ok(["audit", "verify"], environment: ["SIGIL_VAULT": database]).stdout.contains("intact"))

        // Writes go on in the copy (new ids above the copied ones), then it comes back to a file.
        try cli.ok(
            ["secret", "set", "Billing/billing-org", "apiKey"], stdin: "after-the-copy",
            environment: ["SIGIL_VAULT": database])
        let back = cli.home + "/back.db"
        try cli.ok(["vault", "copy", "--from", database, "--to", back])
        #expect(try cli.ok(["audit", "verify"], environment: ["SIGIL_VAULT": back]).stdout.contains("intact"))
        #expect(try signatures(cli, vault: back) == signatures(cli, vault: database))

        // Without the write in PostgreSQL, the file that comes back is the original, row for row.
        let plain = try store.newVaultLocation(in: cli.home)
        try cli.ok(["vault", "copy", "--from", cli.vaultPath, "--to", plain])
        let plainBack = cli.home + "/plain-back.db"
        try cli.ok(["vault", "copy", "--from", plain, "--to", plainBack])
        let before = try rows(cli.vaultPath)
        let after = try rows(plainBack)
        #expect(before.keys.sorted() == after.keys.sorted())
        for (table, rows) in before where table != "sqlite_sequence" {
            #expect(after[table] == rows, "table \(table) differs after the round trip")
        }
        #expect(try signatures(cli, vault: plainBack) == original)
    }

    @Test("bad places: a file that is not a vault, a vault already there, a malformed URL; nothing is changed")
    func refusals() throws {
        let cli = CLI()
        try cli.ok(["init"])
        let notAVault = cli.home + "/notes.db"
        try DatabaseQueue(path: notAVault).write { try $0.execute(sql: "CREATE TABLE notes (text TEXT)") }
        let fromNotAVault = try cli.run(["vault", "copy", "--from", notAVault, "--to", cli.home + "/x.db"])
        #expect(
            fromNotAVault.status != 0 && fromNotAVault.stderr.contains("not a Sigil vault"), "\(fromNotAVault.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/x.db"))

        let other = cli.home + "/other.db"
        try cli.ok(["init"], environment: ["SIGIL_VAULT": other])
        let size = try FileManager.default.attributesOfItem(atPath: other)[.size] as? Int
        let onto = try cli.run(["vault", "copy", "--from", cli.vaultPath, "--to", other])
        #expect(onto.status != 0 && onto.stderr.contains(other), "\(onto.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: other)[.size] as? Int == size)
        try cli.ok(["audit", "verify"], environment: ["SIGIL_VAULT": other])

        let malformed = try cli.run([
            "vault", "copy", "--from", cli.vaultPath, "--to", "postgres://sigil:hunter2@db.example/",
        ])
        #expect(malformed.status != 0 && malformed.stderr.contains("database"), "\(malformed.stderr)")
        #expect(!malformed.output.contains("hunter2"))
    }
}
