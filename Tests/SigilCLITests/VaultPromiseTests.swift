import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import Testing

/// The vault's promises as an operator meets them on the command line: key operations run
/// together, interrupted rotations, a catalog edited without the key, private keys in public fields.
@Suite("sigil keeps the vault's promises")
struct VaultPromiseTests {
    let exampleEnvironment = ["BILLING_API_KEY": "promise-api-key", "AWS_KEY_ID": "AKIDEXAMPLE"]

    func exampleVault() throws -> CLI {
        let cli = CLI()
        let example = try cli.copyExample()
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", example], environment: exampleEnvironment)
        return cli
    }

    func start(_ cli: CLI, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments
        process.environment = cli.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("key rotate and rotate-data-key run together, and each with itself, without losing the vault")
    func concurrentKeyOperations() throws {
        let cli = try exampleVault()
        let pairs = [["key", "rotate"], ["key", "rotate-data-key", "--batch", "1"]]
        for round in 0..<12 {
            let commands =
                round % 3 == 0 ? [pairs[0], pairs[1]] : round % 3 == 1 ? [pairs[0], pairs[0]] : [pairs[1], pairs[1]]
            let processes = try commands.map { try start(cli, $0) }
            for process in processes {
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "round \(round): \(commands)")
            }
            // Every round: the key file opens the vault, the secret is intact, the chain verifies.
            #expect(
                try cli.ok(["sign", "callout:Billing/x"]).stdout.contains("X-Api-Key: promise-api-key"),
                "round \(round)")
            #expect(!FileManager.default.fileExists(atPath: cli.keyPath + ".next"))
        }
        try cli.ok(["audit", "verify"])
        let status =
            try JSONSerialization.jsonObject(with: Data(try cli.ok(["key", "status", "--json"]).stdout.utf8))
            as! [String: Any]
        #expect((status["keys"] as! [[String: Any]]).filter { $0["purpose"] as? String == "data" }.count == 1)
    }

    @Test("a KEYFILE.next left by an interrupted rotation is removed when stale, and finished when it holds the key")
    func interruptedRotation() throws {
        let cli = try exampleVault()
        let next = cli.keyPath + ".next"
        // Killed before its transaction: .next holds a key that never protected the vault.
        try Data((0..<32).map { UInt8($0) }).write(to: URL(fileURLWithPath: next))
        chmod(next, 0o600)
        let stale = try cli.ok(["key", "rotate"])
        #expect(stale.stderr.contains("removed \(next)"))
        #expect(!FileManager.default.fileExists(atPath: next))

        // Killed after its transaction, before the rename: only .next opens the vault.
        try cli.ok(["key", "rotate", "--new-key-file", next])
        // The next command opens the vault with .next and, no rotation being under way, finishes the
        // move (a rotation in progress holds the lock: then .next is only used).
        let settled = try cli.ok(["sign", "callout:Billing/x"])
        #expect(settled.stdout.contains("promise-api-key"))
        #expect(settled.stderr.contains("finished an interrupted `sigil key rotate`"))
        #expect(!FileManager.default.fileExists(atPath: next))
        try cli.ok(["key", "rotate", "--new-key-file", next])
        let finished = try cli.ok(["key", "rotate"])
        #expect(finished.stderr.contains("finished an interrupted `sigil key rotate`"))
        #expect(!FileManager.default.fileExists(atPath: next))
        #expect(try cli.ok(["sign", "callout:Billing/x"]).stdout.contains("promise-api-key"))
        try cli.ok(["audit", "verify"])
    }

    @Test("key rotate --passphrase-stdin reads the passphrase once")
    func rotatePassphraseVault() throws {
        let cli = CLI()
        try cli.ok(["init", "--passphrase-stdin", "--kdf-profile", "interactive"], stdin: "first passphrase\n")
        let rotated = try cli.ok(
            ["key", "rotate", "--passphrase-stdin", "--new-key-file", cli.home + "/new.key"],
            stdin: "first passphrase\n")
        #expect(rotated.stdout.contains("the new key is in \(cli.home)/new.key"))
        try cli.ok(["audit", "verify", "--key-file", cli.home + "/new.key"])
    }

    @Test("a catalog edited without the key: sign refuses naming the item, audit verify lists it, apply mends it")
    func tamperedCatalog() throws {
        let cli = try exampleVault()
        try DatabaseQueue(path: cli.vaultPath).write {
            try $0.execute(sql: "UPDATE named_credentials SET url = 'https://evil.example/v1' WHERE name = 'Billing'")
        }
        let refused = try cli.run(["sign", "callout:Billing/x"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("named credential Billing (row"), "\(refused.stderr)")
        #expect(refused.stderr.contains("changed without the vault's key"))
        #expect(!refused.output.contains("promise-api-key") && !refused.output.contains("evil.example/v1/x"))
        let verify = try cli.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("Audit chain intact"))
        #expect(verify.stdout.contains("Catalog CHANGED WITHOUT THE KEY"))
        #expect(verify.stdout.contains("named credential Billing"))
        let json =
            try JSONSerialization.jsonObject(with: Data(try cli.run(["audit", "verify", "--json"]).stdout.utf8))
            as! [String: Any]
        #expect(json["valid"] as? Bool == false)
        #expect((json["catalogProblems"] as? [[String: Any]])?.first?["table"] as? String == "named_credentials")

        try cli.ok(["apply", "-f", cli.home + "/examples/sigil.yaml"], environment: exampleEnvironment)
        #expect(try cli.ok(["sign", "callout:Billing/x"]).stdout.hasPrefix("GET https://api.billing.example/v1/x"))
        #expect(try cli.ok(["audit", "verify"]).stdout.contains("Catalog authentic"))

        // A removed grant is accepted only when the operator says so.
        try DatabaseQueue(path: cli.vaultPath).write { try $0.execute(sql: "DELETE FROM grants") }
        let unconfirmed = try cli.run(["audit", "accept-catalog"])
        #expect(unconfirmed.status != 0 && unconfirmed.stdout.contains("table grants"))
        try cli.ok(["audit", "accept-catalog", "--yes"])
        try cli.ok(["audit", "verify"])
        #expect(try cli.ok(["audit", "list"]).stdout.contains("catalog.accept"))
    }

    @Test("a private key in a public field is refused, naming the field and never quoting the key")
    func privateKeyInPublicField() throws {
        let cli = CLI()
        try cli.ok(["init"])
        let key =
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRETSECRET\n-----END PRIVATE KEY-----\n"
        let bundle = testCertificatePEM + key
        try bundle.write(toFile: cli.home + "/bundle.pem", atomically: true, encoding: .utf8)
        for field in [
            "trust:\n      caBundle: ./bundle.pem",
            "clientIdentity:\n      certificate: file:bundle.pem\n      privateKey: file:bundle.pem",
        ] {
            let config = """
                externalCredentials:
                  - { name: Api, protocol: none }
                namedCredentials:
                  - name: Api
                    url: https://api.example
                    externalCredential: Api
                    \(field)

                """
            try config.write(toFile: cli.home + "/c.yaml", atomically: true, encoding: .utf8)
            let refused = try cli.run(["apply", "-f", cli.home + "/c.yaml"])
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(field.hasPrefix("trust") ? "trust.caBundle" : "clientIdentity.certificate"),
                "\(refused.stderr)")
            #expect(refused.stderr.contains("holds a private key"))
            #expect(!refused.output.contains("SECRETSECRET"))
        }
        #expect(try cli.ok(["export"]).stdout.contains("SECRETSECRET") == false)
        #expect(try cli.ok(["list", "--json"]).stdout.contains("\"Api\"") == false)
    }

    @Test("a flipped bit: secret set replaces the value, rotate-data-key reports it and goes on")
    func corruptedBlob() throws {
        let cli = try exampleVault()
        try DatabaseQueue(path: cli.vaultPath).write {
            try $0.execute(
                sql:
                    "UPDATE secrets SET sealed = CAST(substr(sealed, 1, 40) || CASE WHEN substr(sealed, 41, 1) = x'01' THEN x'02' ELSE x'01' END || substr(sealed, 42) AS BLOB) WHERE field = 'apiKey'"
            )
        }
        let rotation = try cli.run(["key", "rotate-data-key"])
        #expect(rotation.status == 1)
        #expect(rotation.stdout.contains("did not open"), "\(rotation.output)")
        #expect(rotation.stdout.contains("apiKey"))
        try cli.ok(["secret", "set", "Billing/billing-org", "apiKey"], stdin: "replaced-key")
        #expect(try cli.ok(["sign", "callout:Billing/x"]).stdout.contains("X-Api-Key: replaced-key"))
        try cli.ok(["secret", "set", "Billing/billing-org", "apiKey"], stdin: "replaced-again")
        #expect(try cli.ok(["key", "rotate-data-key", "--resume-only"]).stdout.contains("older data keys destroyed"))
        try cli.ok(["audit", "verify"])
    }

    @Test("a damaged vault file is named, with what to do, not as a bare SQLite error")
    func damagedVault() throws {
        let cli = try exampleVault()
        let handle = try #require(FileHandle(forUpdatingAtPath: cli.vaultPath))
        try handle.seek(toOffset: 8192)
        try handle.write(contentsOf: Data(repeating: 0xFF, count: 12288))
        try handle.close()
        for command in [["list"], ["sign", "callout:Billing/x"]] {
            let damaged = try cli.run(command)
            #expect(damaged.status == 1)
            #expect(
                damaged.stderr.contains(
                    "vault \(cli.vaultPath): the file is damaged; restore it from a backup (SQLite: database disk image is malformed)"
                ), "\(damaged.stderr)")
        }
    }
}
