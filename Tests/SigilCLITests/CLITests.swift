import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import Testing

@Suite("sigil CLI")
struct CLITests {
    let exampleEnvironment = ["BILLING_API_KEY": "example-billing-key", "AWS_KEY_ID": "AKIDEXAMPLE"]

    @Test("--help works for every command")
    func help() throws {
        let cli = CLI()
        for command in [
            [], ["init"], ["apply"], ["export"], ["list"], ["show"], ["secret"], ["secret", "set"], ["delete"],
            ["audit"], ["audit", "list"], ["audit", "verify"], ["key"], ["key", "status"], ["key", "rotate"],
            ["key", "rotate-data-key"],
        ] {
            let result = try cli.run(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("USAGE:"), "\(command)")
        }
        #expect(try cli.run(["--version"]).stdout.contains("0.1.0"))
    }

    @Test("the walk-through: init, apply, list, show, export, apply the export, audit")
    func walkThrough() throws {
        let cli = CLI()
        let example = try cli.copyExample()
        let initialized = try cli.ok(["init"])
        #expect(initialized.stdout.contains("new key file \(cli.keyPath) (mode 0600)"))
        let mode = try FileManager.default.attributesOfItem(atPath: cli.keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let applied = try cli.ok(["apply", "-f", example], environment: exampleEnvironment)
        #expect(applied.stdout.contains("+ external credential Billing"))
        #expect(applied.stdout.contains("+ secret apiKey of principal Billing/billing-org (version 1)"))
        let again = try cli.ok(["apply", "-f", example], environment: exampleEnvironment)
        #expect(again.stdout.contains(": 0 created, 0 updated,"), "\(again.stdout)")

        let list =
            try JSONSerialization.jsonObject(with: Data(try cli.ok(["list", "--json"]).stdout.utf8)) as! [String: Any]
        #expect((list["externalCredentials"] as! [Any]).count == 3)
        #expect((list["namedCredentials"] as! [Any]).count == 3)
        let shown = try cli.ok(["show", "Billing"]).stdout
        #expect(shown.contains("External credential Billing (protocol custom)"))
        #expect(shown.contains("Named credential Billing: https://api.billing.example/v1 via Billing"))
        #expect(shown.contains("apiKey set (v1 current)"))
        let principal =
            try JSONSerialization.jsonObject(
                with: Data(try cli.ok(["show", "Billing/billing-org", "--json"]).stdout.utf8)) as! [String: Any]
        #expect(((principal["principal"] as! [String: Any])["grantedTo"] as! [String]) == ["group:finance"])

        let export = try cli.ok(["export", "-o", cli.home + "/export.yaml"])
        #expect(export.stdout.isEmpty)
        let reapplied = try cli.ok(["apply", "-f", cli.home + "/export.yaml", "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(reapplied.stdout.utf8)) as! [String: Any]
        #expect((report["changes"] as! [[String: Any]]).allSatisfy { $0["action"] as? String == "unchanged" })
        let exportJSON = try cli.ok(["export", "--json"]).stdout
        #expect(exportJSON.hasPrefix("{"))

        let verify = try cli.ok(["audit", "verify"])
        #expect(verify.stdout.contains("Audit chain intact"))
        let audit =
            try JSONSerialization.jsonObject(with: Data(try cli.ok(["audit", "--json"]).stdout.utf8))
            as! [[String: Any]]
        #expect(audit.first?["action"] as? String == "vault.create")
        #expect(audit.allSatisfy { $0["actor"] as? String == "cli-test" })

        try cli.ok(["delete", "grant", "Billing/billing-org", "group:finance"])
        try cli.ok(["delete", "named-credential", "S3"])
        try cli.ok(["delete", "external-credential", "AwsProd"])
        #expect(try cli.ok(["list"]).stdout.contains("AwsProd") == false)
    }

    @Test("failures exit non-zero with a message naming the item and the problem")
    func failures() throws {
        let cli = CLI()
        let noVault = try cli.run(["list"])
        #expect(noVault.status == 1)
        #expect(noVault.stderr.contains("no vault at \(cli.vaultPath); create one with `sigil init`"))
        try cli.ok(["init"])
        let bad = cli.home + "/bad.yaml"
        try
            "externalCredentials:\n  - name: Billing\n    protocol: custom\n    principals:\n      - name: p\n        secrets: { apiKey: env:UNSET_FOR_SURE }\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let unset = try cli.run(["apply", "-f", bad])
        #expect(unset.status == 1)
        #expect(
            unset.stderr.contains(
                "bad.yaml:5: principal Billing/p, secrets.apiKey: environment variable UNSET_FOR_SURE is not set"),
            "\(unset.stderr)")
        #expect(try cli.ok(["export"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "{}")

        let unknownItem = try cli.run(["show", "Nope"])
        #expect(unknownItem.status == 1 && unknownItem.stderr.contains("nothing named Nope"))
        let usage = try cli.run(["delete", "spaceship", "x"])
        #expect(usage.status == 64)

        // A wrong key changes nothing and says so.
        let wrongKey = cli.home + "/wrong.key"
        try MasterKey.generate().write(toKeyFile: wrongKey)
        let wrong = try cli.run(["list"], environment: ["SIGIL_KEY_FILE": wrongKey])
        #expect(wrong.status == 1 && wrong.stderr.contains("the master key does not open vault"))
        let openKey = cli.home + "/open.key"
        try FileManager.default.copyItem(atPath: cli.keyPath, toPath: openKey)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: openKey)
        #expect(try cli.run(["list", "--key-file", openKey]).stderr.contains("chmod 600"))
    }

    @Test("secret set reads stdin, versions values, and per-user secrets go to the user's authorization")
    func secretSet() throws {
        let cli = CLI()
        let example = try cli.copyExample()
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", example], environment: exampleEnvironment)
        #expect(
            try cli.ok(["secret", "set", "Billing/billing-org", "apiKey"], stdin: "rotated-value\n").stdout.contains(
                "version 2, current"))
        try cli.ok(["secret", "set", "Billing/billing-org", "apiKey", "--stage", "pending"], stdin: "next-value")
        try cli.ok(["secret", "set", "Calendar/per-user", "password", "--user", "alice"], stdin: "alice-password")
        let shown = try cli.ok(["show", "Billing/billing-org"]).stdout
        #expect(
            shown.contains("version 3 pending") && shown.contains("version 2 current")
                && shown.contains("version 1 previous"))
        #expect(
            try cli.ok(["show", "user:alice"]).stdout.contains(
                "authorization of alice for Calendar/per-user: authorized; secrets: password set (v1 current)"))
        let named = try cli.run(["secret", "set", "Billing/billing-org", "password", "--user", "alice"], stdin: "x")
        #expect(named.status == 1 && named.stderr.contains("named principal"))
        let vault = try Vault.open(at: cli.vaultPath, key: .keyFile(path: cli.keyPath), actor: "test")
        #expect(
            try vault.secret(
                SecretTarget(owner: .principal(PrincipalRef(parsing: "Billing/billing-org")!), field: "apiKey"))
                == SecretBytes(utf8: "rotated-value"))
    }

    @Test("key rotation from the CLI: master key in place, to a passphrase, and the data key")
    func keyRotation() throws {
        let cli = CLI()
        let example = try cli.copyExample()
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", example], environment: exampleEnvironment)
        let oldKey = cli.home + "/old.key"
        try FileManager.default.copyItem(atPath: cli.keyPath, toPath: oldKey)
        try cli.ok(["key", "rotate"])
        #expect(!FileManager.default.fileExists(atPath: cli.keyPath + ".next"))
        #expect(try cli.run(["list", "--key-file", oldKey]).status == 1)
        try cli.ok(["key", "rotate-data-key", "--batch", "1"])
        let status =
            try JSONSerialization.jsonObject(with: Data(try cli.ok(["key", "status", "--json"]).stdout.utf8))
            as! [String: Any]
        let keys = status["keys"] as! [[String: Any]]
        #expect(keys.filter { $0["purpose"] as? String == "data" }.count == 1)
        try cli.ok(
            ["key", "rotate", "--new-passphrase-stdin", "--kdf-profile", "interactive"],
            stdin: "a passphrase for the vault\n")
        let viaPassphrase = try cli.ok(
            ["list"], environment: ["SIGIL_KEY_FILE": "", "SIGIL_PASSPHRASE": "a passphrase for the vault"])
        #expect(viaPassphrase.stdout.contains("Billing"))
        #expect(try cli.run(["list"]).stderr.contains("protected by a passphrase"))
        try cli.ok(
            ["audit", "verify"], environment: ["SIGIL_KEY_FILE": "", "SIGIL_PASSPHRASE": "a passphrase for the vault"])
    }

    @Test("a passphrase vault from init, with the key from stdin")
    func passphraseInit() throws {
        let cli = CLI()
        try cli.ok(["init", "--passphrase-stdin", "--kdf-profile", "interactive"], stdin: "init passphrase\n")
        #expect(!FileManager.default.fileExists(atPath: cli.keyPath))
        try cli.ok(["list", "--passphrase-stdin"], stdin: "init passphrase\n")
        #expect(try cli.run(["list", "--passphrase-stdin"], stdin: "wrong\n").status == 1)
    }

    @Test("four processes applying at once all succeed, and the audit chain stays whole")
    func concurrentProcesses() throws {
        let cli = CLI()
        try cli.ok(["init"])
        let files = try (0..<4).map { index in
            let path = cli.home + "/config-\(index).yaml"
            let credentials = (0..<10).map { "  - { name: P\(index)C\($0), protocol: none }" }.joined(separator: "\n")
            try "externalCredentials:\n\(credentials)\n".write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let results = try files.map { path -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["apply", "-f", path]
            process.environment = cli.environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in results {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let list =
            try JSONSerialization.jsonObject(with: Data(try cli.ok(["list", "--json"]).stdout.utf8)) as! [String: Any]
        #expect((list["externalCredentials"] as! [Any]).count == 40)
        try cli.ok(["audit", "verify"])
    }
}

@Suite("sigil sign")
struct SignCommandTests {
    @Test("prints the decorated request as text and JSON, and refuses what would leave the endpoint")
    func sign() throws {
        let cli = CLI()
        let example = try cli.copyExample()
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", example], environment: ["BILLING_API_KEY": "sign-test-key", "AWS_KEY_ID": "AKID"])
        let text = try cli.ok(["sign", "callout:Billing/invoices?limit=2", "-H", "Accept: application/json"]).stdout
        #expect(
            text
                == "GET https://api.billing.example/v1/invoices?limit=2\nAccept: application/json\nX-Api-Key: sign-test-key\n"
        )
        let json =
            try JSONSerialization.jsonObject(
                with: Data(
                    try cli.ok(["sign", "--as", "alice", "-d", "{\"a\":1}", "--json", "callout:Billing/x"]).stdout.utf8)
            ) as! [String: Any]
        #expect(json["method"] as? String == "POST")
        #expect(json["headers"] as? [[String]] == [["X-Api-Key", "sign-test-key"]])
        #expect(json["body_base64"] as? String == Data("{\"a\":1}".utf8).base64EncodedString())
        // Standard output is a file here, as in a pipe: the head, a blank line, then the body.
        let withBody = try cli.ok(["sign", "--as", "alice", "-d", "{\"a\":1}", "callout:Billing/x"]).stdout
        #expect(
            withBody == "POST https://api.billing.example/v1/x\nX-Api-Key: sign-test-key\n\n{\"a\":1}", "\(withBody)")
        let refused = try cli.run(["sign", "callout:Billing/../admin"])
        #expect(refused.status == 1 && refused.stderr.contains("'..' segment"))
        let noPrincipal = try cli.run(["sign", "--as", "bob", "callout:Billing/x"])
        #expect(
            noPrincipal.status == 1
                && noPrincipal.stderr.contains("no principal of external credential Billing is available to user bob"))
        let badTime = try cli.run(["sign", "--at", "yesterday", "callout:Billing/x"])
        #expect(badTime.status == 64)
    }
}
