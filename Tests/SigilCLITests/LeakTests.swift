import Foundation
import GRDB
import SigilCore
import SigilModel
import SigilStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Secrets never reach the disk or the output in plaintext")
struct LeakTests {
    @Test(
        "no source reads Foundation's copy of the environment, which would hold every secret variable in unwiped Strings"
    )
    func noEnvironmentCopy() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Sources"
        ).standardized
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }.filter {
            $0.hasSuffix(".swift")
        }
        #expect(files.count > 50)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            #expect(
                !text.contains("processInfo.environment") && !text.contains("NSHomeDirectory()"),
                "\(file) reads ProcessInfo.environment (use getenv; SecretBytes.environment for secrets)")
        }
    }

    @Test("a crash prints one fixed line: no backtrace, registers or memory (which could hold secrets)")
    func crashReport() throws {
        let cli = CLI()
        let example = try cli.copyExample()
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", example], environment: CLITests().exampleEnvironment)
        // `secret set` waits for its standard input; a fatal signal arrives meanwhile.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["secret", "set", "Billing/billing-org", "apiKey"]
        process.environment = cli.environment
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        Thread.sleep(forTimeInterval: 1)
        kill(process.processIdentifier, SIGSEGV)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(
            process.terminationReason == .exit && process.terminationStatus == 70,
            "\(process.terminationReason) \(process.terminationStatus)")
        #expect(
            stderr
                == "sigil: internal error (a fatal signal); no crash report is printed, since it could show secrets\n",
            "\(stderr)")
    }

    @Test(
        "known secrets written through apply and secret set are absent from the database, its WAL and shm, and all CLI output"
    )
    func scan() throws {
        let cli = CLI()
        var secrets = [
            "env-secret-7b1f0c9e2d4a6581",
            "file-secret-93ad7c2e51f04b68",
            "stdin-secret-c05e8f1a7d3b9246",
            "per-user-secret-5d2b7e9c0a1f3864",
            "client-key-secret-8e4c1a7f2b9d0536",
        ]
        try cli.ok(["init"])
        try (secrets[1] + "\n").write(toFile: cli.home + "/secret-file", atomically: true, encoding: .utf8)
        // A real key and its certificate (a client identity's key is checked against its certificate
        // when applied); the key's PEM text is the secret scanned for.
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            cli.home + "/client.key",
            "-out", cli.home + "/client.crt", "-subj", "/CN=leak test", "-days", "2",
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        secrets[4] = try String(contentsOfFile: cli.home + "/client.key", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let config = cli.home + "/leak.yaml"
        try """
        externalCredentials:
          - name: Leak
            protocol: basic
            parameters: { username: someone }
            principals:
              - name: org
                secrets: { password: env:LEAK_SECRET, token: file:secret-file }
              - name: users
                type: per-user
        namedCredentials:
          - name: Leak
            url: https://leak.example/api
            externalCredential: Leak
            clientIdentity: { certificate: file:client.crt, privateKey: file:client.key }
        users:
          - { name: alice }
        authorizations:
          - { principal: Leak/users, user: alice, secrets: { password: env:LEAK_USER_SECRET } }
        """.write(toFile: config, atomically: true, encoding: .utf8)

        // Hold a read transaction open, as a running service would, so the WAL is not checkpointed
        // away and its content can be scanned too.
        let holder = try DatabasePool(path: cli.vaultPath)
        try holder.read { db in
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log")
            try cli.ok(
                ["apply", "-f", config], environment: ["LEAK_SECRET": secrets[0], "LEAK_USER_SECRET": secrets[3]])
            try cli.ok(
                ["apply", "-f", config, "--json"],
                environment: ["LEAK_SECRET": secrets[0], "LEAK_USER_SECRET": secrets[3]])
            try cli.ok(["secret", "set", "Leak/org", "apiKey"], stdin: secrets[2] + "\n")
            for command in [
                ["list"], ["list", "--json"], ["show", "Leak"], ["show", "Leak", "--json"], ["show", "Leak/org"],
                ["show", "user:alice"],
                ["export"], ["export", "--json"], ["audit"], ["audit", "--json"], ["audit", "verify"],
                ["key", "status", "--json"], ["sign", "--explain", "callout:Leak/x"],
            ] {
                try cli.ok(command)
            }
            // Errors about secrets must not quote them either.
            _ = try cli.run(["secret", "set", "Leak/org", "bad-field"], stdin: secrets[2])
            _ = try cli.run(["apply", "-f", config], environment: ["LEAK_SECRET": secrets[0]])

            // The scan is not vacuous: the values are really stored.
            let vault = try Vault.open(at: cli.vaultPath, key: .keyFile(path: cli.keyPath), actor: "scan")
            let org = PrincipalRef(externalCredential: "Leak", principal: "org")
            #expect(
                try vault.secret(SecretTarget(owner: .principal(org), field: "password"))
                    == SecretBytes(utf8: secrets[0]))
            #expect(
                try vault.secret(SecretTarget(owner: .principal(org), field: "token")) == SecretBytes(utf8: secrets[1]))
            #expect(
                try vault.secret(SecretTarget(owner: .principal(org), field: "apiKey")) == SecretBytes(utf8: secrets[2])
            )
            #expect(
                try vault.secret(
                    SecretTarget(
                        owner: .authorization(
                            PrincipalRef(externalCredential: "Leak", principal: "users"), user: "alice"),
                        field: "password")) == SecretBytes(utf8: secrets[3]))
            #expect(
                try vault.secret(SecretTarget(owner: .namedCredential("Leak"), field: "privateKey"))
                    == SecretBytes(utf8: secrets[4]))

            let files = ["", "-wal", "-shm"].map { cli.vaultPath + $0 }
            #expect(FileManager.default.fileExists(atPath: files[1]), "the WAL should exist while a reader holds it")
            var haystacks: [(String, Data)] = try files.filter { FileManager.default.fileExists(atPath: $0) }.map {
                ($0, try Data(contentsOf: URL(fileURLWithPath: $0)))
            }
            haystacks += CLI.transcriptLock.withLock { CLI.transcript }.enumerated().map {
                ("output \($0.offset)", Data($0.element.utf8))
            }
            for secret in secrets {
                let forms = [
                    Data(secret.utf8), Data(secret.utf8.map { String(format: "%02x", $0) }.joined().utf8),
                    Data(Data(secret.utf8).base64EncodedString().utf8),
                ]
                for (name, haystack) in haystacks {
                    for form in forms {
                        #expect(haystack.range(of: form) == nil, "a secret appears in \(name)")
                    }
                }
            }
        }
    }
}

/// A real self-signed certificate (P-256, CN=Sigil test client, valid until 2126; client
/// certificates are parsed when applied), shared by the test targets: `Tests/Fixtures`.
let testCertificatePEM = try! String(
    contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/test-client.crt"),
    encoding: .utf8
)
